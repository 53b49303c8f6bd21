//! How the tenant keeps its objects small enough for a million users: each object's JSON as
//! compressed text, decoded only when it is read.
//!
//! A category's first objects are kept as plain JSON text and serve as samples; once there are
//! enough, a zstd dictionary is trained on them and every later object of the category is
//! compressed with it (about a third of the size of compressing each object alone, since Graph
//! objects of one category share their property names and most of their values' shapes). The
//! text is `serde_json`'s own output and is parsed back with `float_roundtrip`, so what is served
//! is byte for byte what was stored.

use std::cell::RefCell;
use std::sync::Arc;

use serde_json::{Map, Value};
use zstd::zstd_safe::{CCtx, CDict, DCtx, DDict};

/// Objects of a category kept as samples before its dictionary is trained.
const SAMPLES: usize = 2_000;
/// The largest dictionary trained.
const DICT_BYTES: usize = 64 * 1024;
/// zstd's level: the fastest levels already get most of what a dictionary gives on small objects.
const LEVEL: i32 = 1;

const PLAIN: u8 = 0;
const ZSTD: u8 = 1;

thread_local! {
    static CCTX: RefCell<CCtx<'static>> = RefCell::new(CCtx::create());
    static DCTX: RefCell<DCtx<'static>> = RefCell::new(DCtx::create());
}

struct Dicts {
    compress: CDict<'static>,
    decompress: DDict<'static>,
}

/// A category's encoder: plain text until the dictionary is trained, compressed after.
#[derive(Clone, Default)]
pub(crate) struct Codec {
    samples: Vec<Arc<[u8]>>,
    dicts: Option<Arc<Dicts>>,
    /// Training was tried and failed (too little or too uniform data): stay plain.
    untrainable: bool,
}

impl std::fmt::Debug for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Codec").field("samples", &self.samples.len()).field("trained", &self.dicts.is_some()).finish()
    }
}

impl Codec {
    /// Encode an object's JSON.
    pub(crate) fn encode(&mut self, json: &Map<String, Value>) -> Box<[u8]> {
        let mut text = Vec::with_capacity(512);
        text.push(PLAIN);
        serde_json::to_writer(&mut text, json).expect("a JSON map always serialises");
        if let Some(dicts) = &self.dicts {
            return compress(&text[1..], dicts).unwrap_or_else(|| text.into_boxed_slice());
        }
        if !self.untrainable {
            self.samples.push(Arc::from(&text[1..]));
            if self.samples.len() >= SAMPLES {
                self.train();
            }
        }
        text.into_boxed_slice()
    }

    fn train(&mut self) {
        let samples = std::mem::take(&mut self.samples);
        match zstd::dict::from_samples(&samples, DICT_BYTES) {
            Ok(dict) => {
                self.dicts =
                    Some(Arc::new(Dicts { compress: CDict::create(&dict, LEVEL), decompress: DDict::create(&dict) }))
            }
            Err(_) => self.untrainable = true,
        }
    }

    /// Decode what [`encode`](Self::encode) gave.
    pub(crate) fn decode(&self, body: &[u8]) -> Map<String, Value> {
        let parse = |text: &[u8]| serde_json::from_slice(text).expect("the simulator decodes only what it encoded");
        match body.split_first() {
            Some((&PLAIN, text)) => parse(text),
            Some((&ZSTD, frame)) => {
                let dicts = self.dicts.as_ref().expect("a compressed object has its category's dictionary");
                let size = zstd::zstd_safe::get_frame_content_size(frame).ok().flatten().unwrap_or(0) as usize;
                let mut text = Vec::with_capacity(size);
                DCTX.with(|d| d.borrow_mut().decompress_using_ddict(&mut text, frame, &dicts.decompress))
                    .expect("the simulator decodes only what it encoded");
                parse(&text)
            }
            _ => unreachable!("every encoded object starts with its tag"),
        }
    }
}

fn compress(text: &[u8], dicts: &Dicts) -> Option<Box<[u8]>> {
    let mut out = Vec::with_capacity(1 + zstd::zstd_safe::compress_bound(text.len()));
    out.push(ZSTD);
    let mut frame = Vec::with_capacity(zstd::zstd_safe::compress_bound(text.len()));
    CCTX.with(|c| c.borrow_mut().compress_using_cdict(&mut frame, text, &dicts.compress)).ok()?;
    out.extend_from_slice(&frame);
    Some(out.into_boxed_slice())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_and_compressed_objects_come_back_exactly() {
        let mut codec = Codec::default();
        let objects: Vec<Map<String, Value>> = (0..SAMPLES + 50)
            .map(|i| {
                let v = json!({"id": format!("{i:08x}-0000-4000-8000-000000000000"), "n": i, "x": 0.1 + i as f64 / 7.0,
                  "nested": {"a": [1, 2, null, true], "é": "ünïcode"}, "empty": {}, "big": u64::MAX, "neg": -5});
                v.as_object().cloned().expect("object")
            })
            .collect();
        let encoded: Vec<Box<[u8]>> = objects.iter().map(|o| codec.encode(o)).collect();
        assert!(codec.dicts.is_some(), "the dictionary is trained after {SAMPLES} objects");
        assert_eq!(encoded.last().map(|b| b[0]), Some(ZSTD));
        assert_eq!(encoded[0][0], PLAIN);
        for (o, e) in objects.iter().zip(&encoded) {
            let back = codec.decode(e);
            assert_eq!(&back, o);
            assert_eq!(serde_json::to_string(&back).ok(), serde_json::to_string(o).ok(), "same text, same order");
        }
    }
}
