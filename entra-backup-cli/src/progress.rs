//! A live progress display on a terminal: one line per category being read, with objects,
//! requests and throttled waits. Nothing is drawn when stderr is not a terminal.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use entra_backup::pipeline::{Progress, State};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub(crate) struct Display {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Display {
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

pub(crate) fn start(progress: Arc<Progress>) -> Display {
    let (stop, mut stopped) = oneshot::channel();
    let task = tokio::spawn(async move {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(8));
        let style = ProgressStyle::with_template("{spinner} {prefix:<40} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let mut bars: Vec<Option<ProgressBar>> = vec![None; progress.categories.len()];
        loop {
            for (i, cp) in progress.categories.iter().enumerate() {
                let state = cp.state();
                if state == State::Waiting {
                    continue;
                }
                let bar = bars[i].get_or_insert_with(|| {
                    let b =
                        multi.add(ProgressBar::new_spinner().with_style(style.clone()).with_prefix(cp.category.name));
                    b.enable_steady_tick(Duration::from_millis(120));
                    b
                });
                if bar.is_finished() {
                    continue;
                }
                let r = &cp.stats.requests;
                let msg = format!(
                    "{} objects, {} links, {} requests, {} throttled",
                    cp.stats.objects(),
                    cp.stats.relationships(),
                    r.requests.load(Ordering::Relaxed),
                    r.throttled.load(Ordering::Relaxed)
                );
                match state {
                    State::Done => bar.finish_with_message(format!("{msg}  done")),
                    State::Failed => bar.finish_with_message(format!("{msg}  FAILED")),
                    _ => bar.set_message(msg),
                }
            }
            tokio::select! {
                _ = &mut stopped => break,
                _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
        }
        for b in bars.into_iter().flatten() {
            if !b.is_finished() {
                b.finish();
            }
        }
        let _ = multi.clear();
    });
    Display { stop, task }
}
