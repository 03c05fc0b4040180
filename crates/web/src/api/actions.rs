//! The lifecycle actions in the API's document, one operation each.
//!
//! One route serves them all (`POST /api/v1/consultations/{id}/actions/{action}`,
//! `consultations::act`), but each action reads its own parameters: `reject`
//! needs a reason, `schedule` a start, `return` a comment. The document says
//! so action by action — `POST …/actions/reject` (`act_reject`) with a body of
//! exactly what `reject` reads, required where the service requires it — so
//! that a generated client has a typed call per action and what the schema
//! allows is what the server accepts. The generic `{action}` operation stays,
//! deprecated, for clients generated from 1.x.

use rtms_service::lifecycle::consultations::{CLOSEOUT_EFFECTS, ESCALATE_REASONS, REJECT_REASONS};
use serde_json::{json, Map, Value};

/// The generic operation's path.
pub const GENERIC: &str = "/api/v1/consultations/{id}/actions/{action}";

/// (action, what it does, its parameters besides `comment`, the required ones).
const ACTIONS: &[(&str, &str, &[&str], &[&str])] = &[
    ("submit", "The doctor sends the draft: to the coordination centre, to the head of the hospital when approval is required, or, for an emergency whose route names a consultant, straight to that consultant.", &[], &[]),
    ("approve", "The head of the requesting hospital approves the request; it goes to the coordination centre.", &[], &[]),
    ("send_back", "The head of the requesting hospital sends the request back to the doctor, saying why (`comment`).", &[], &["comment"]),
    ("take", "The dispatcher takes the request for review.", &[], &[]),
    ("return", "The dispatcher returns the request to the doctor for changes, saying what is missing (`comment`); the deadline pauses.", &[], &["comment"]),
    ("resubmit", "The doctor sends the corrected request again; the deadline resumes.", &[], &[]),
    ("reject", "The dispatcher refuses the request, with a reason code.", &["reason_code"], &["reason_code"]),
    ("assign", "The dispatcher (or, for a request already in its centre, the centre's coordinator) assigns a consultation centre and consultants: `consultant_id` for one, `consultant_ids` for a consilium (the first leads), `tkc_id` for the centre alone. Each consultant must be a consultant of that centre.", &["tkc_id", "consultant_id", "consultant_ids"], &[]),
    ("accept", "The assigned consultant accepts the request.", &[], &[]),
    ("decline", "The assigned consultant declines, saying why (`comment`); the request goes back to the dispatcher.", &[], &["comment"]),
    ("schedule", "A video session for the request: `starts_at` (not in the past) and `duration_minutes` (5–480, default 30).", &["starts_at", "duration_minutes"], &["starts_at"]),
    ("start", "The consultant starts work on the request.", &[], &[]),
    ("sign", "The consultant signs the conclusion as saved; the last signature of a consilium completes the request and issues the PDF (and the SEMD, docs/SEMD.md).", &[], &[]),
    ("acknowledge", "The requesting doctor acknowledges the conclusion and closes the request; optionally says whether it was useful and what it changed.", &["useful", "effect"], &[]),
    ("escalate", "The dispatcher sends the request to the federal level, with a reason code.", &["reason_code"], &["reason_code"]),
    ("record_federal_conclusion", "The dispatcher records the federal centre's answer received outside this system (`comment`); the request completes.", &[], &["comment"]),
    ("cancel", "The doctor withdraws the request before review.", &[], &[]),
];

/// The schema of one parameter of `action`, as the service checks it.
fn parameter(action: &str, name: &str, required: bool, general: &Value) -> Value {
    let mut s = match name {
        // The service trims a comment and refuses a blank one where it needs one.
        "comment" if required => {
            json!({"type": "string", "pattern": "\\S", "description": "Why, in words (not blank)."})
        }
        "reason_code" => {
            let reasons = if action == "reject" {
                REJECT_REASONS
            } else {
                ESCALATE_REASONS
            };
            json!({"type": "string", "enum": reasons})
        }
        "effect" => {
            json!({"anyOf": [{"type": "string", "enum": CLOSEOUT_EFFECTS}, {"type": "null"}]})
        }
        "duration_minutes" => json!({"type": ["integer", "null"], "minimum": 5, "maximum": 480}),
        _ => general["properties"][name].clone(),
    };
    if required {
        if let Some(types) = s["type"].as_array() {
            let t: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
            s["type"] = t.first().cloned().unwrap_or(Value::Null);
        }
    }
    s
}

/// Replaces nothing and adds one operation per action beside the generic one,
/// which becomes deprecated (its `action` no longer lists the two names that
/// are messages, not actions: `ask` and `answer`).
pub fn split(paths: &mut Map<String, Value>, schemas: &Value) {
    let Some(generic) = paths.get_mut(GENERIC).and_then(|i| i.get_mut("post")) else {
        return;
    };
    generic["deprecated"] = json!(true);
    let names: Vec<&str> = ACTIONS.iter().map(|a| a.0).collect();
    if let Some(params) = generic["parameters"].as_array_mut() {
        for p in params.iter_mut().filter(|p| p["name"] == "action") {
            p["schema"] = json!({"type": "string", "enum": names});
        }
    }
    let generic = generic.clone();
    let general = &schemas["ActionParams"];
    for (action, what, own, required) in ACTIONS {
        let mut props = Map::new();
        props.insert(
            "comment".into(),
            parameter(action, "comment", required.contains(&"comment"), general),
        );
        for name in *own {
            props.insert(
                (*name).into(),
                parameter(action, name, required.contains(name), general),
            );
        }
        let mut body = json!({
            "type": "object",
            "properties": props,
            "additionalProperties": false,
        });
        if !required.is_empty() {
            body["required"] = json!(required);
        }
        let mut op = generic.clone();
        let o = op.as_object_mut().expect("an operation is an object");
        o.remove("deprecated");
        o.insert("operationId".into(), json!(format!("act_{action}")));
        o.insert("summary".into(), json!(format!("Action `{action}`")));
        o.insert("description".into(), json!(what));
        if let Some(params) = op["parameters"].as_array_mut() {
            params.retain(|p| p["name"] != "action");
        }
        op["requestBody"] = json!({
            "description": if required.is_empty() { "Optional: `{}` or no body" } else { "The action's parameters" },
            "required": !required.is_empty(),
            "content": {"application/json": {"schema": body}},
        });
        paths.insert(GENERIC.replace("{action}", action), json!({ "post": op }));
    }
}
