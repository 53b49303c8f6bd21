//! Graph's read side over the simulated tenant: routing by the catalog's paths, projection
//! (`$select` and default properties), paging with opaque tokens, `$filter`, `$expand`, `$count`,
//! relationships, singletons and delta. One entry point, [`dispatch`], serves both plain requests and
//! the sub-requests of `$batch`.

use std::collections::BTreeMap;
use std::ops::Bound;

use serde_json::{Map, Value, json};

use super::SimState;
use super::errors::GraphResponse;
use super::protocol::{GraphRequest, Route, USER_DEFAULT, project, route, throttled};
use super::query::{ODataQuery, PageState};
use super::tenant::{Entry, StoredObject, Tenant};
use super::throttle::identity_cost;
use super::token::Grant;
use entra_backup::catalog::{self, ApiVersion, Area, Category, Relationship, RelationshipKind, Shape, ThrottleFamily};

/// Directory delta pages hold at most this many objects (observed; Graph does not document it).
pub(crate) const DELTA_PAGE: u32 = 200;
/// Directory delta links live 7 days.
pub(crate) const DELTA_LIFETIME_SECS: i64 = 7 * 24 * 3600;
/// `$expand` of a link relationship returns at most 20 targets, unpaged.
pub(crate) const EXPAND_LIMIT: usize = 20;

/// Serve one request.
pub(crate) fn dispatch(state: &SimState, req: &GraphRequest) -> GraphResponse {
    // Writes and the directory's recycle bin are served by the write side.
    if let Some(resp) = super::write::handle(state, req) {
        return resp;
    }
    let (cat, route) = match route(req.path) {
        Ok(r) => r,
        Err(e) => return e,
    };
    if cat.api_version == ApiVersion::Beta && req.version != "beta" {
        let seg = cat.path.rsplit('/').next().unwrap_or(cat.path);
        return GraphResponse::segment_not_found(seg);
    }
    let mut needed: Vec<&str> = cat.permissions.read.to_vec();
    if let Route::Relationship(_, r) | Route::RelationshipRefs(_, r) = &route {
        needed.extend(r.read_permissions.iter().copied());
    }
    let directory = matches!(cat.area, Area::Identities | Area::Organization | Area::Applications | Area::Roles);
    if !req.grant.allows(&needed, directory) {
        return GraphResponse::error(
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        );
    }
    let q = match ODataQuery::parse(req.query) {
        Ok(q) => q,
        Err(e) => return e,
    };

    // Throttling: each request is admitted by its family's published limits before it is served.
    let base_cost = match &route {
        Route::Relationship(_, r) | Route::RelationshipRefs(_, r) => r.cost,
        Route::Item(_) | Route::Count => 1,
        _ => cat.cost,
    };
    let cost = identity_cost(base_cost, q.select.is_some(), q.expand.is_some(), q.top);
    let admitted = match state.throttle.admit(cat.throttle, cost, false) {
        Ok(a) => a,
        Err(t) => return throttled(t),
    };

    let mut resp = match route {
        Route::Collection if cat.shape == Shape::Singleton => singleton(state, req, cat, &q),
        Route::Collection => list(state, req, cat, &q),
        Route::Delta => delta(state, req, cat, &q),
        Route::Count => count(state, req, cat),
        Route::Item(id) => item(state, req, cat, id, &q),
        Route::Relationship(id, rel) => relationship(state, req, cat, id, rel, &q, false),
        Route::RelationshipRefs(id, rel) => relationship(state, req, cat, id, rel, &q, true),
    };
    if let Some(ru) = admitted.resource_units {
        resp = resp.header("x-ms-resource-unit", ru.to_string());
    }
    if let Some(p) = admitted.limit_percentage {
        resp = resp.header("x-ms-throttle-limit-percentage", format!("{p:.1}"));
    }
    resp
}

fn context(req: &GraphRequest, what: &str) -> String {
    format!("{}/{}/$metadata#{}", req.base, req.version, what)
}

/// Whether `prop` is a property of the category's items (of the entity type, a derived type, or
/// held by some item).
fn known_property(tenant: &Tenant, cat: &Category, prop: &str) -> bool {
    if prop == "id"
        || prop.starts_with('@')
        || cat.selected().contains(&prop)
        || cat.single_get_select.contains(&prop)
        || cat.relationships.iter().any(|r| r.name == prop)
    {
        return true;
    }
    let mut types = vec![cat.entity_type];
    types.extend(cat.derived_types.iter().copied());
    if types.iter().any(|t| type_has_property(t, prop)) {
        return true;
    }
    tenant.objects(cat.name).take(500).any(|o| o.json.contains_key(prop))
}

fn check_select(tenant: &Tenant, cat: &Category, q: &ODataQuery) -> Result<(), GraphResponse> {
    for p in q.select.iter().flatten() {
        if !known_property(tenant, cat, p) {
            return Err(GraphResponse::bad_request(
                "Request_BadRequest",
                format!("Could not find a property named '{p}' on type '{}'.", cat.entity_type),
            ));
        }
    }
    if let Some((_, f)) = &q.filter {
        for p in f.properties() {
            if !known_property(tenant, cat, p) {
                return Err(GraphResponse::bad_request(
                    "Request_BadRequest",
                    format!("Could not find a property named '{p}' on type '{}'.", cat.entity_type),
                ));
            }
        }
    }
    Ok(())
}

/// An object as a member of a directoryObject collection: with `@odata.type`.
fn project_typed(tenant: &Tenant, category: &str, id: &str, select: Option<&[String]>) -> Option<Map<String, Value>> {
    let cat = catalog::get(category)?;
    let obj = tenant.get(category, id)?;
    let mut m = project(&obj, cat, select, true);
    let t = format!("#{}", obj.odata_type(cat));
    m.shift_insert(0, "@odata.type".into(), Value::String(t));
    Some(m)
}

fn expand_into(
    tenant: &Tenant,
    cat: &Category,
    obj: &StoredObject,
    expand: &[String],
    out: &mut Map<String, Value>,
) -> Result<(), GraphResponse> {
    for e in expand {
        let name = e.split('(').next().unwrap_or(e).trim();
        let Some(rel) = cat.relationships.iter().find(|r| r.name == name) else {
            return Err(GraphResponse::bad_request(
                "Request_BadRequest",
                format!("Could not find a navigation property named '{name}' on type '{}'.", cat.entity_type),
            ));
        };
        let value = match rel.kind {
            RelationshipKind::Link => obj
                .links(rel.name)
                .first()
                .and_then(|t| project_typed(tenant, t.category, &t.id, None))
                .map(Value::Object)
                .unwrap_or(Value::Null),
            RelationshipKind::Links => Value::Array(
                obj.links(rel.name)
                    .iter()
                    .take(EXPAND_LIMIT)
                    .filter_map(|t| project_typed(tenant, t.category, &t.id, None).map(Value::Object))
                    .collect(),
            ),
            RelationshipKind::Contained => {
                Value::Array(obj.children.get(rel.name).into_iter().flatten().cloned().map(Value::Object).collect())
            }
        };
        out.insert(rel.name.to_string(), value);
    }
    Ok(())
}

fn now_secs(state: &SimState) -> i64 {
    state.clock.now().as_second()
}

fn generation(state: &SimState) -> i64 {
    state.token_generation.load(std::sync::atomic::Ordering::Relaxed)
}

/// The page state of a request: from its `$skiptoken`, or fresh.
fn page_state(
    state: &SimState,
    req: &GraphRequest,
    q: &ODataQuery,
    page: catalog::PageSize,
) -> Result<PageState, GraphResponse> {
    if let Some(tok) = &q.skiptoken {
        let st = PageState::decode(tok).filter(|s| s.p == req.path).ok_or_else(|| {
            GraphResponse::bad_request(
                "Request_BadRequest",
                "The page token in the request is not valid for this request.",
            )
        })?;
        if st.g != generation(state) {
            return Err(expired_page_token());
        }
        return Ok(st);
    }
    let top = match q.top {
        None => page.default,
        Some(t) if !page.top_supported => {
            return Err(GraphResponse::bad_request(
                "Request_UnsupportedQuery",
                format!("The query option '$top' is not supported on this resource (value '{t}')."),
            ));
        }
        Some(t) if t < 1 || t > page.max => {
            return Err(GraphResponse::bad_request(
                "Request_UnsupportedQuery",
                format!("Invalid page size specified: '{t}'. Must be between 1 and {} inclusive.", page.max),
            ));
        }
        Some(t) => t,
    };
    Ok(PageState {
        p: req.path.to_string(),
        t: top,
        s: q.select.clone(),
        f: q.filter.as_ref().map(|(raw, _)| raw.clone()),
        x: q.expand.clone(),
        g: generation(state),
        i: now_secs(state),
        ..Default::default()
    })
}

pub(crate) fn expired_page_token() -> GraphResponse {
    GraphResponse::bad_request(
        "Directory_ExpiredPageToken",
        "The specified page token value has expired and can no longer be included in your request.",
    )
}

fn next_link(req: &GraphRequest, st: &PageState, token_param: &str) -> String {
    format!("{}/{}{}?${token_param}={}", req.base, req.version, req.path, st.encode())
}

fn list(state: &SimState, req: &GraphRequest, cat: &Category, q: &ODataQuery) -> GraphResponse {
    let tenant = state.tenant();
    if let Err(e) = check_select(&tenant, cat, q) {
        return e;
    }
    let st = match page_state(state, req, q, cat.page) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let filter = match &st.f {
        Some(raw) => match super::query::Filter::parse(raw) {
            Ok(f) => Some(f),
            Err(e) => return GraphResponse::bad_request("Request_UnsupportedQuery", e),
        },
        None => None,
    };
    if q.count && cat.throttle == ThrottleFamily::Identity && req.header("ConsistencyLevel") != Some("eventual") {
        return GraphResponse::bad_request(
            "Request_BadRequest",
            "$count is only supported with the ConsistencyLevel header set to eventual.",
        );
    }
    let Some(store) = tenant.store(cat.name) else { return GraphResponse::segment_not_found(cat.name) };
    // Logs are listed newest first, as Graph lists sign-ins ("the most recent sign-ins are returned
    // first") and audit records; records that arrive while a listing pages sort before the point
    // it reached, so a listing never skips an older record for a newer one.
    let ordered: Box<dyn Iterator<Item = (&String, Entry<'_>)>> = match store.newest_first(st.a.as_deref()) {
        Some(logs) => Box::new(logs),
        None => Box::new(store.entries_after(st.a.as_deref())),
    };
    let mut items = Vec::new();
    let mut more = false;
    let mut last = None;
    for (id, entry) in ordered {
        if items.len() == st.t as usize {
            // Whether another object passes the filter decides whether there is a next page.
            if filter.as_ref().is_none_or(|f| f.matches(&entry.json())) {
                more = true;
                break;
            }
            continue;
        }
        let obj = entry.decode();
        if filter.as_ref().is_some_and(|f| !f.matches(&obj.json)) {
            continue;
        }
        let mut m = project(&obj, cat, st.s.as_deref(), true);
        if let Some(x) = &st.x
            && let Err(e) = expand_into(&tenant, cat, &obj, x, &mut m)
        {
            return e;
        }
        items.push(Value::Object(m));
        last = Some(id.clone());
    }
    let mut body = Map::new();
    body.insert("@odata.context".into(), json!(context(req, req.path.trim_start_matches('/'))));
    if q.count {
        let n = match &filter {
            Some(f) => store.entries_after(None).filter(|(_, e)| f.matches(&e.json())).count(),
            None => store.len(),
        };
        body.insert("@odata.count".into(), json!(n));
    }
    if more {
        let next = PageState { a: last, ..st };
        body.insert("@odata.nextLink".into(), json!(next_link(req, &next, "skiptoken")));
    }
    body.insert("value".into(), Value::Array(items));
    GraphResponse::ok(Value::Object(body))
}

/// `GET /users/$count`: a plain number, only with `ConsistencyLevel: eventual` (an advanced query).
fn count(state: &SimState, req: &GraphRequest, cat: &Category) -> GraphResponse {
    if req.header("ConsistencyLevel") != Some("eventual") {
        return GraphResponse::bad_request(
            "Request_BadRequest",
            "Count is not currently supported without the ConsistencyLevel header set to eventual.",
        );
    }
    GraphResponse::ok(json!(state.tenant().count(cat.name)))
}

fn singleton(state: &SimState, req: &GraphRequest, cat: &Category, q: &ODataQuery) -> GraphResponse {
    let tenant = state.tenant();
    if let Err(e) = check_select(&tenant, cat, q) {
        return e;
    }
    let Some(obj) = tenant.objects(cat.name).next() else { return GraphResponse::not_found(cat.name) };
    let mut m = project(&obj, cat, q.select.as_deref(), false);
    m.shift_insert(
        0,
        "@odata.context".into(),
        json!(context(req, &format!("{}/$entity", req.path.trim_start_matches('/')))),
    );
    GraphResponse::ok(Value::Object(m))
}

fn item(state: &SimState, req: &GraphRequest, cat: &Category, id: &str, q: &ODataQuery) -> GraphResponse {
    let audit;
    let resp = {
        let tenant = state.tenant();
        if let Err(e) = check_select(&tenant, cat, q) {
            return e;
        }
        let Some(obj) = tenant.get(cat.name, id) else { return GraphResponse::not_found(id) };
        let mut m = project(&obj, cat, q.select.as_deref(), false);
        if let Some(x) = &q.expand
            && let Err(e) = expand_into(&tenant, cat, &obj, x, &mut m)
        {
            return e;
        }
        let ctx = format!("{}/$entity", cat.path.trim_start_matches('/'));
        m.shift_insert(0, "@odata.context".into(), json!(context(req, &ctx)));
        // Reading a secret (a BitLocker key) is audited in the tenant, as Entra ID does.
        let read_secret = q.select.iter().flatten().any(|p| cat.secret_properties.contains(&p.as_str()));
        audit = read_secret.then(|| key_read_audit(state, cat, &obj, req.grant));
        GraphResponse::ok(Value::Object(m))
    };
    if let Some(Some(mut record)) = audit {
        // Dated as it is written, under the lock: records enter the log in time order.
        let mut tenant = state.tenant_mut();
        record["activityDateTime"] = json!(state.clock.now().to_string());
        let _ = tenant.insert("directoryAudits", record);
    }
    resp
}

fn key_read_audit(state: &SimState, cat: &Category, obj: &StoredObject, grant: &Grant) -> Option<Value> {
    catalog::get("directoryAudits")?;
    // Ids from the simulator's request counter: unique even for reads at the same moment.
    let device = obj.json.get("deviceId").cloned().unwrap_or(Value::Null);
    Some(json!({
        "id": format!("KeyManagement_{}", state.next_request_id()),
        "category": "KeyManagement",
        "correlationId": state.next_request_id(),
        "result": "success",
        "resultReason": "",
        "activityDisplayName": "Read BitLocker key",
        "activityDateTime": null,
        "loggedByService": "Core Directory",
        "operationType": "Read",
        "initiatedBy": {
            "app": {"appId": grant.app_id, "displayName": null, "servicePrincipalId": null, "servicePrincipalName": null},
            "user": null
        },
        "targetResources": [{
            "id": device,
            "displayName": null,
            "type": "Device",
            "userPrincipalName": null,
            "groupType": null,
            "modifiedProperties": [{"displayName": "KeyIdentifier", "oldValue": null, "newValue": obj.json.get("id").cloned().unwrap_or(Value::Null).to_string()}]
        }],
        "additionalDetails": [{"key": "RecoveryKeyType", "value": cat.name}]
    }))
}

fn relationship(
    state: &SimState,
    req: &GraphRequest,
    cat: &Category,
    id: &str,
    rel: &Relationship,
    q: &ODataQuery,
    refs: bool,
) -> GraphResponse {
    let tenant = state.tenant();
    let Some(obj) = tenant.get(cat.name, id) else { return GraphResponse::not_found(id) };
    if rel.kind == RelationshipKind::Link {
        let Some(t) = obj.links(rel.name).first() else { return GraphResponse::not_found(rel.name) };
        return match project_typed(&tenant, t.category, &t.id, q.select.as_deref()) {
            Some(mut m) => {
                m.shift_insert(0, "@odata.context".into(), json!(context(req, "directoryObjects/$entity")));
                GraphResponse::ok(Value::Object(m))
            }
            None => GraphResponse::not_found(rel.name),
        };
    }
    let st = match page_state(state, req, q, rel.page) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let start: usize = st.a.as_deref().and_then(|a| a.parse().ok()).unwrap_or(0);
    let mut items = Vec::new();
    let total;
    match rel.kind {
        RelationshipKind::Contained => {
            let kids = obj.children.get(rel.name).map(Vec::as_slice).unwrap_or(&[]);
            total = kids.len();
            for k in kids.iter().skip(start).take(st.t as usize) {
                let v = match &st.s {
                    Some(sel) => {
                        let mut m = Map::new();
                        for p in sel {
                            m.insert(p.clone(), k.get(p).cloned().unwrap_or(Value::Null));
                        }
                        m
                    }
                    None => k.clone(),
                };
                items.push(Value::Object(v));
            }
        }
        _ => {
            let links = obj.links(rel.name);
            total = links.len();
            for t in links.iter().skip(start).take(st.t as usize) {
                if refs {
                    let ty = catalog::get(t.category).map(|c| c.entity_type).unwrap_or_default();
                    let short = ty.rsplit('.').next().unwrap_or(ty);
                    let mut upper = short.to_string();
                    if let Some(f) = upper.get_mut(0..1) {
                        f.make_ascii_uppercase();
                    }
                    items.push(json!({"@odata.id": format!(
                        "https://graph.microsoft.com/v2/{}/directoryObjects/{}/Microsoft.DirectoryServices.{upper}",
                        tenant.tenant_id, t.id
                    )}));
                } else if let Some(m) = project_typed(&tenant, t.category, &t.id, st.s.as_deref()) {
                    items.push(Value::Object(m));
                }
            }
        }
    }
    let end = start + st.t as usize;
    let mut body = Map::new();
    let ctx = if rel.kind == RelationshipKind::Contained {
        format!("{}('{id}')/{}", cat.path.trim_start_matches('/'), rel.name)
    } else if refs {
        "Collection($ref)".to_string()
    } else {
        "directoryObjects".to_string()
    };
    body.insert("@odata.context".into(), json!(context(req, &ctx)));
    if end < total {
        let next = PageState { a: Some(end.to_string()), ..st };
        body.insert("@odata.nextLink".into(), json!(next_link(req, &next, "skiptoken")));
    }
    body.insert("value".into(), Value::Array(items));
    GraphResponse::ok(Value::Object(body))
}

fn delta(state: &SimState, req: &GraphRequest, cat: &Category, q: &ODataQuery) -> GraphResponse {
    let Some(spec) = &cat.delta else { return GraphResponse::segment_not_found("delta") };
    let tenant = state.tenant();
    if q.top.is_some() || q.expand.is_some() || q.orderby.is_some() {
        return GraphResponse::bad_request(
            "Request_UnsupportedQuery",
            "$top, $expand and $orderby are not supported with delta queries.",
        );
    }
    if q.select.is_some() && q.skiptoken.is_some() {
        return GraphResponse::bad_request(
            "Request_UnsupportedQuery",
            "$select cannot be combined with a $skiptoken in a delta query: follow the nextLink as it is.",
        );
    }
    let link_path = req.path.to_string();
    let st = if let Some(tok) = &q.deltatoken {
        if tok == "latest" {
            let st = PageState {
                p: link_path,
                t: DELTA_PAGE,
                s: q.select.clone(),
                upto: tenant.seq(),
                g: generation(state),
                i: now_secs(state),
                ..Default::default()
            };
            let body = json!({
                "@odata.context": context(req, &format!("{}/$delta", cat.path.trim_start_matches('/'))),
                "@odata.deltaLink": next_link(req, &st, "deltatoken"),
                "value": [],
            });
            return GraphResponse::ok(body);
        }
        let Some(prev) = PageState::decode(tok).filter(|s| s.p == req.path) else {
            return sync_state_not_found();
        };
        if prev.g != generation(state) || now_secs(state) - prev.i > DELTA_LIFETIME_SECS {
            return sync_state_not_found();
        }
        PageState { since: prev.upto, upto: tenant.seq(), a: None, i: now_secs(state), ..prev }
    } else if let Some(tok) = &q.skiptoken {
        match PageState::decode(tok).filter(|s| s.p == req.path) {
            Some(s) if s.g == generation(state) => s,
            Some(_) => return expired_page_token(),
            None => {
                return GraphResponse::bad_request("Request_BadRequest", "The page token in the request is not valid.");
            }
        }
    } else {
        if let Err(e) = check_select(&tenant, cat, q) {
            return e;
        }
        if let Some((raw, f)) = &q.filter
            && f.properties().iter().any(|p| *p != "id")
        {
            return GraphResponse::bad_request(
                "Request_UnsupportedQuery",
                format!("Delta queries filter on object ids only; '{raw}' is not supported."),
            );
        }
        PageState {
            p: link_path,
            t: DELTA_PAGE,
            s: q.select.clone(),
            f: q.filter.as_ref().map(|(raw, _)| raw.clone()),
            upto: tenant.seq(),
            g: generation(state),
            i: now_secs(state),
            ..Default::default()
        }
    };
    let filter = st.f.as_deref().and_then(|raw| super::query::Filter::parse(raw).ok());
    let Some(store) = tenant.store(cat.name) else { return GraphResponse::segment_not_found(cat.name) };
    let tracked: Vec<&str> = spec
        .tracked_relationships
        .iter()
        .copied()
        .filter(|r| st.s.as_ref().is_some_and(|s| s.iter().any(|x| x == r)))
        .collect();
    let select_props: Option<Vec<String>> =
        st.s.as_ref().map(|s| s.iter().filter(|p| !tracked.contains(&p.as_str())).cloned().collect());

    // Walk live and removed objects together in id order.
    let lower = || match &st.a {
        Some(a) => Bound::Excluded(a.clone()),
        None => Bound::Unbounded,
    };
    let mut live = store.entries_after(st.a.as_deref()).peekable();
    let mut gone = store.removed.range::<String, _>((lower(), Bound::Unbounded)).peekable();
    let mut items = Vec::new();
    let mut last = None;
    let mut more = false;
    loop {
        let take_live = match (live.peek(), gone.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some((a, _)), Some((b, _))) => a < b,
        };
        if items.len() == st.t as usize {
            more = true;
            break;
        }
        if take_live {
            let (id, entry) = live.next().expect("peeked");
            // Change numbers first: an incremental round decodes only what changed.
            if st.since > 0 && entry.seq() <= st.since {
                continue;
            }
            let obj = entry.decode();
            if filter.as_ref().is_some_and(|f| !f.matches(&obj.json)) {
                continue;
            }
            let mut m = if st.since == 0 || obj.created_seq > st.since {
                // Delta always returns the id, selected or not.
                let mut m = project(&obj, cat, select_props.as_deref(), true);
                if !m.contains_key("id") && obj.json.contains_key("id") {
                    m.shift_insert(0, "id".into(), json!(id));
                }
                m
            } else {
                // An updated object: its id and the properties changed since the last round.
                let mut m = Map::new();
                m.insert("id".into(), json!(id));
                for (p, seq) in obj.prop_seq.iter() {
                    let wanted = match &select_props {
                        Some(sel) => sel.iter().any(|s| s == p),
                        None => cat.name != "users" || USER_DEFAULT.contains(&p.as_str()),
                    };
                    if *seq > st.since && wanted && !cat.single_get_select.contains(&p.as_str()) {
                        m.insert(p.clone(), obj.json.get(p).cloned().unwrap_or(Value::Null));
                    }
                }
                m
            };
            for rel in &tracked {
                let changes: Vec<Value> = if st.since == 0 || obj.created_seq > st.since {
                    obj.links(rel).iter().map(|t| link_ref(t.category, &t.id, None)).collect()
                } else {
                    // Net change per target since the last round.
                    let mut net: BTreeMap<&str, (&str, bool)> = BTreeMap::new();
                    for c in store.link_changes.get(id).into_iter().flatten() {
                        if c.rel == *rel && c.seq > st.since {
                            net.insert(c.target.id.as_str(), (c.target.category, c.added));
                        }
                    }
                    net.into_iter().map(|(tid, (tc, added))| link_ref(tc, tid, (!added).then_some("deleted"))).collect()
                };
                if !changes.is_empty() {
                    m.insert(format!("{rel}@delta"), Value::Array(changes));
                }
            }
            items.push(Value::Object(m));
            last = Some(id.clone());
        } else {
            let (id, (seq, why)) = gone.next().expect("peeked");
            if st.since == 0 || *seq <= st.since {
                continue;
            }
            items.push(json!({"id": id, "@removed": {"reason": why.reason()}}));
            last = Some(id.clone());
        }
    }
    let mut body = Map::new();
    body.insert("@odata.context".into(), json!(context(req, &format!("{}/$delta", cat.path.trim_start_matches('/')))));
    if more {
        let next = PageState { a: last, ..st };
        body.insert("@odata.nextLink".into(), json!(next_link(req, &next, "skiptoken")));
    } else {
        let next = PageState { a: None, since: 0, ..st };
        body.insert("@odata.deltaLink".into(), json!(next_link(req, &next, "deltatoken")));
    }
    body.insert("value".into(), Value::Array(items));
    GraphResponse::ok(Value::Object(body))
}

fn link_ref(category: &str, id: &str, removed: Option<&str>) -> Value {
    let ty = catalog::get(category).map(|c| c.entity_type).unwrap_or("microsoft.graph.directoryObject");
    let mut m = json!({"@odata.type": format!("#{ty}"), "id": id});
    if let Some(reason) = removed {
        m["@removed"] = json!({"reason": reason});
    }
    m
}

fn sync_state_not_found() -> GraphResponse {
    GraphResponse::bad_request(
        "syncStateNotFound",
        "The sync state generation is not found. The delta token is expired and data must be synchronized again.",
    )
}

/// Whether the CSDL gives the entity type (or its bases) this property.
fn type_has_property(entity_type: &str, prop: &str) -> bool {
    entra_backup::model::has_property(entity_type, prop)
}
