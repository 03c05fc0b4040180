//! Property tests of the consultation lifecycle (`lifecycle.rs`) together with
//! the deadline clock (`deadline.rs`).
//!
//! The expectations here are NOT read from `TRANSITIONS`: a test that computed
//! "what `decide` should say" from the same table would agree with any mistake
//! in it. Instead the real `decide`, `available_actions` and
//! `reachable_states` are held against
//!
//! - each other (what is offered is accepted, the outcome does not depend on
//!   extra roles, a guard picks a destination but never refuses),
//! - facts defined elsewhere in the domain (`Status::is_final`,
//!   `Role::is_clinical`, the deadline clock, the consilium size),
//! - the lifecycle table users read in `docs/API.md` (which action, from which
//!   states, by whom, to where).
//!
//! A small test-only model of ONE request is driven by random sequences of
//! steps. Each step advances a simulated clock, maybe tries to edit the
//! conclusion, then asks [`decide`] whether an action is allowed and applies the
//! decision. The simulation only records what happened (a trace of snapshots);
//! each property below walks the trace and checks one aspect of it.
//!
//! To reach deep states (in progress, consilium signatures) often enough, most
//! steps are "steered": they pick one of the actions `available_actions` offers
//! to somebody in the current state and may add a role `decide` accepts for it
//! to the random role set. The rest are raw random actions. Either way the real
//! `decide` is called with whatever came out, so wrong actions and wrong roles
//! are exercised too.

use std::collections::hash_map::DefaultHasher;
use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use rtms_domain::lifecycle::{
    available_actions, conclusion_editable, reachable_states, ClockEffect,
};
use rtms_domain::{
    decide, Action, DeadlineClock, DeadlinePolicy, Decision, FormOfCare, GuardContext, Role,
    Status, TransitionError,
};

/// The lifecycle section of the API documentation.
const API_DOC: &str = include_str!("../../../docs/API.md");

// ---------------------------------------------------------------------------
// Generated input
// ---------------------------------------------------------------------------

/// How the action of a step is chosen.
#[derive(Debug, Clone)]
enum Pick {
    /// Any action at all, most of them wrong for the current state.
    Raw(Action),
    /// The n-th (modulo) action offered to anybody in the current state.
    Steer(usize),
}

#[derive(Debug, Clone)]
struct Step {
    pick: Pick,
    /// A random non-empty subset of roles.
    roles: Vec<Role>,
    /// When steering, also give the actor a role that may take the action.
    steer_roles: bool,
    /// Seconds the simulated "now" advances before the step.
    advance_secs: i64,
    form: FormOfCare,
    requires_head_approval: bool,
    route_found: bool,
    /// Text the conclusion editor tries to write before the step, if any.
    edit: Option<String>,
}

#[derive(Debug, Clone)]
struct Case {
    consilium: usize,
    steps: Vec<Step>,
}

fn action_strategy() -> impl Strategy<Value = Action> {
    prop::sample::select(Action::ALL.to_vec())
}

fn roles_strategy() -> impl Strategy<Value = Vec<Role>> {
    prop::sample::subsequence(Role::ALL.to_vec(), 1..=Role::ALL.len())
}

fn form_strategy() -> impl Strategy<Value = FormOfCare> {
    prop::sample::select(FormOfCare::ALL.to_vec())
}

fn step_strategy() -> impl Strategy<Value = Step> {
    let pick = prop_oneof![
        1 => action_strategy().prop_map(Pick::Raw),
        3 => (0usize..64).prop_map(Pick::Steer),
    ];
    let advance = prop_oneof![Just(0i64), 0i64..=3_600, 0i64..=3 * 86_400,];
    (
        pick,
        roles_strategy(),
        prop::bool::weighted(0.8),
        advance,
        form_strategy(),
        any::<bool>(),
        any::<bool>(),
        prop::option::of("[a-zа-я ]{1,16}"),
    )
        .prop_map(
            |(pick, roles, steer_roles, advance_secs, form, rha, route, edit)| Step {
                pick,
                roles,
                steer_roles,
                advance_secs,
                form,
                requires_head_approval: rha,
                route_found: route,
                edit,
            },
        )
}

fn case_strategy() -> impl Strategy<Value = Case> {
    (1usize..=3, prop::collection::vec(step_strategy(), 0..=60))
        .prop_map(|(consilium, steps)| Case { consilium, steps })
}

// ---------------------------------------------------------------------------
// The model and its trace
// ---------------------------------------------------------------------------

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn text_hash(s: &str) -> u64 {
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// The state of the modelled request at one moment.
#[derive(Debug, Clone)]
struct Snapshot {
    status: Status,
    now: DateTime<Utc>,
    clock: Option<DeadlineClock>,
    signatures: usize,
    conclusion: String,
    /// Set on the first signature: the hash of the conclusion at that moment.
    frozen_hash: Option<u64>,
    /// Model-side total of the time spent in `Returned` (seconds).
    returned_secs: i64,
}

#[derive(Debug, Clone)]
struct EditAttempt {
    text: String,
    allowed: bool,
}

#[derive(Debug, Clone)]
struct StepRecord {
    index: usize,
    action: Action,
    roles: Vec<Role>,
    ctx: GuardContext,
    /// Before the time advance.
    before: Snapshot,
    /// After the time advance and the edit attempt, right before `decide`.
    mid: Snapshot,
    edit: Option<EditAttempt>,
    result: Result<Decision, TransitionError>,
    /// After the decision was applied.
    after: Snapshot,
    /// The budget used if the clock was started on this step.
    started_budget: Option<Duration>,
    /// Things the model could not apply (e.g. `Pause` without a clock).
    anomalies: Vec<String>,
}

struct Trace {
    consilium: usize,
    steps: Vec<StepRecord>,
}

fn guard_context(step: &Step, consilium: usize, signatures: usize) -> GuardContext {
    GuardContext {
        form: step.form,
        requires_head_approval: step.requires_head_approval,
        route_found: step.route_found,
        urgent_routed: false,
        unsigned_members: consilium.saturating_sub(signatures),
    }
}

/// Resolves the action and the role set of a step in the current state.
fn resolve(step: &Step, status: Status, ctx: &GuardContext) -> (Action, Vec<Role>) {
    let mut roles = step.roles.clone();
    let action = match step.pick {
        Pick::Raw(a) => a,
        Pick::Steer(n) => {
            let offered = available_actions(status, Role::ALL, ctx);
            if offered.is_empty() {
                Action::ALL[n % Action::ALL.len()]
            } else {
                let action = offered[n % offered.len()];
                if step.steer_roles {
                    let able: Vec<Role> = Role::ALL
                        .iter()
                        .copied()
                        .filter(|&r| decide(status, action, &[r], ctx).is_ok())
                        .collect();
                    if !able.is_empty() {
                        let r = able[n % able.len()];
                        if !roles.contains(&r) {
                            roles.push(r);
                        }
                    }
                }
                action
            }
        }
    };
    (action, roles)
}

fn simulate(case: &Case) -> Trace {
    let policy = DeadlinePolicy::default();
    let mut s = Snapshot {
        status: Status::Draft,
        now: t0(),
        clock: None,
        signatures: 0,
        conclusion: String::new(),
        frozen_hash: None,
        returned_secs: 0,
    };
    let mut out = Vec::with_capacity(case.steps.len());
    for (index, step) in case.steps.iter().enumerate() {
        let before = s.clone();
        let mut anomalies = Vec::new();

        // 1. Time passes.
        s.now += Duration::seconds(step.advance_secs);
        if s.status == Status::Returned {
            s.returned_secs += step.advance_secs;
        }

        // 2. Somebody tries to edit the conclusion.
        let edit = step.edit.as_ref().map(|text| {
            let allowed = conclusion_editable(s.status, s.signatures);
            if allowed {
                s.conclusion = text.clone();
            }
            EditAttempt {
                text: text.clone(),
                allowed,
            }
        });
        let mid = s.clone();

        // 3. The action.
        let ctx = guard_context(step, case.consilium, s.signatures);
        let (action, roles) = resolve(step, s.status, &ctx);
        let result = decide(s.status, action, &roles, &ctx);
        let mut started_budget = None;
        if let Ok(d) = &result {
            match d.clock {
                ClockEffect::None => {}
                ClockEffect::Start => {
                    if s.clock.is_some() {
                        anomalies.push("ClockEffect::Start while the clock already runs".into());
                    }
                    let budget = policy.budget(ctx.form);
                    started_budget = Some(budget);
                    s.clock = Some(DeadlineClock::start(s.now, budget));
                }
                ClockEffect::Pause => match &mut s.clock {
                    Some(c) => c.pause(s.now),
                    None => anomalies.push("ClockEffect::Pause without a clock".into()),
                },
                ClockEffect::Resume => match &mut s.clock {
                    Some(c) => c.resume(s.now),
                    None => anomalies.push("ClockEffect::Resume without a clock".into()),
                },
            }
            if action == Action::Sign {
                s.signatures += 1;
                if s.frozen_hash.is_none() {
                    s.frozen_hash = Some(text_hash(&s.conclusion));
                }
            }
            s.status = d.to;
        }
        let after = s.clone();
        out.push(StepRecord {
            index,
            action,
            roles,
            ctx,
            before,
            mid,
            edit,
            result,
            after,
            started_budget,
            anomalies,
        });
    }
    Trace {
        consilium: case.consilium,
        steps: out,
    }
}

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(512)
}

/// Every combination of the facts the guards look at.
fn contexts() -> Vec<GuardContext> {
    let mut out = Vec::new();
    for &form in FormOfCare::ALL {
        for requires_head_approval in [false, true] {
            for route_found in [false, true] {
                for unsigned_members in 0..=3 {
                    out.push(GuardContext {
                        form,
                        requires_head_approval,
                        route_found,
                        urgent_routed: false,
                        unsigned_members,
                    });
                }
            }
        }
    }
    out
}

fn context_strategy() -> impl Strategy<Value = GuardContext> {
    (form_strategy(), any::<bool>(), any::<bool>(), 0usize..=4).prop_map(
        |(form, requires_head_approval, route_found, unsigned_members)| GuardContext {
            form,
            requires_head_approval,
            route_found,
            urgent_routed: false,
            unsigned_members,
        },
    )
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    /// 1. Along a walk every accepted decision is about the state it was asked
    ///    in, names one of the actor's roles, leads to a state the table lists,
    ///    and is what the actor would get acting under that one role; a refused
    ///    action leaves the request as it was; a final state is never left.
    #[test]
    fn decisions_along_walks_are_consistent(case in case_strategy()) {
        let reachable = reachable_states();
        let trace = simulate(&case);
        for r in &trace.steps {
            let i = r.index;
            match &r.result {
                Ok(d) => {
                    prop_assert_eq!(
                        d.from, r.mid.status,
                        "step {}: decision.from differs from the state decided on", i
                    );
                    prop_assert!(
                        r.roles.contains(&d.role),
                        "step {i}: decision.role {} is not one of the actor's roles {:?}",
                        d.role, r.roles
                    );
                    prop_assert!(
                        reachable.contains(&d.to),
                        "step {i}: {} --{}--> {}, a state missing from reachable_states() {:?}",
                        d.from, r.action, d.to, reachable
                    );
                    prop_assert_eq!(
                        decide(r.mid.status, r.action, &[d.role], &r.ctx), Ok(*d),
                        "step {}: acting only as {} decides differently", i, d.role
                    );
                    prop_assert!(
                        available_actions(r.mid.status, &r.roles, &r.ctx).contains(&r.action),
                        "step {i}: {} was accepted in {} but not offered to {:?}",
                        r.action, r.mid.status, r.roles
                    );
                    prop_assert_eq!(
                        r.after.status, d.to,
                        "step {}: model status differs from decision.to", i
                    );
                }
                Err(e) => {
                    prop_assert_eq!(
                        r.after.status, r.mid.status,
                        "step {}: status changed although decide failed with {:?}", i, e
                    );
                }
            }
            if r.before.status.is_final() {
                prop_assert!(
                    r.result.is_err(),
                    "step {i}: final state {} accepted {}", r.before.status, r.action
                );
            }
        }
        // Once final, final for the rest of the sequence.
        if let Some(first_final) = trace.steps.iter().position(|r| r.after.status.is_final()) {
            let fin = trace.steps[first_final].after.status;
            for r in &trace.steps[first_final..] {
                prop_assert_eq!(
                    r.after.status, fin,
                    "step {}: left the final state {} reached at step {}", r.index, fin, first_final
                );
            }
        }
    }

    /// 2. `decide` tells a wrong state (409: nobody may do this now) from a
    ///    wrong role (403: somebody else may), for any state, action, roles and
    ///    guard facts. Guards choose where an action leads, never whether the
    ///    holder of the right role may take it; extra roles change nothing.
    #[test]
    fn decide_tells_wrong_state_from_wrong_role(
        status in prop::sample::select(Status::ALL.to_vec()),
        action in action_strategy(),
        roles in roles_strategy(),
        extra in roles_strategy(),
        ctx in context_strategy(),
        other_ctx in context_strategy(),
    ) {
        let got = decide(status, action, &roles, &ctx);
        let alone = |r: Role| decide(status, action, &[r], &ctx);
        match got {
            Err(TransitionError::NotInThisState { status: s, action: a }) => {
                prop_assert_eq!((s, a), (status, action), "the error names another request state");
                for &r in Role::ALL {
                    prop_assert_eq!(
                        alone(r), got,
                        "{} in {} is 'not in this state' for {:?}, but {} alone got another answer",
                        action, status, roles, r
                    );
                }
                prop_assert_eq!(
                    decide(status, action, &roles, &other_ctx), got,
                    "{} in {}: whether the state allows it depends on the guard facts", action, status
                );
            }
            Err(TransitionError::Forbidden { status: s, action: a }) => {
                prop_assert_eq!((s, a), (status, action), "the error names another request state");
                for &r in &roles {
                    prop_assert_eq!(
                        alone(r), Err(TransitionError::Forbidden { status, action }),
                        "{} in {} is forbidden for {:?} but {} alone got another answer",
                        action, status, roles, r
                    );
                }
                let somebody = Role::ALL.iter().copied().find(|r| !roles.contains(r) && alone(*r).is_ok());
                prop_assert!(
                    somebody.is_some(),
                    "{action} in {status} is 'forbidden' for {roles:?} yet no other role may take it \
                     (that is a wrong state, not a wrong role)"
                );
                prop_assert!(
                    matches!(
                        decide(status, action, &roles, &other_ctx),
                        Err(TransitionError::Forbidden { .. })
                    ),
                    "{} in {}: whether {:?} may act depends on the guard facts", action, status, roles
                );
            }
            Ok(d) => {
                prop_assert_eq!(d.from, status);
                prop_assert!(roles.contains(&d.role), "decided as {} who is not among {:?}", d.role, roles);
                prop_assert_eq!(alone(d.role), Ok(d), "acting only as {} decides differently", d.role);
                let mut more = roles.clone();
                more.extend(extra.iter().copied().filter(|r| !roles.contains(r)));
                let with_more = decide(status, action, &more, &ctx);
                prop_assert_eq!(
                    with_more.map(|m| (m.to, m.clock)), Ok((d.to, d.clock)),
                    "{} in {}: the extra roles {:?} change the outcome", action, status, extra
                );
                prop_assert!(
                    decide(status, action, &roles, &other_ctx).is_ok(),
                    "{action} in {status} by {roles:?}: accepted with {ctx:?} but refused with {other_ctx:?}"
                );
            }
        }
    }

    /// 3. A signed conclusion is frozen; the consultation completes exactly
    ///    with the last consilium signature.
    #[test]
    fn signed_conclusion_is_frozen_and_completion_needs_all_signatures(case in case_strategy()) {
        let trace = simulate(&case);
        let size = trace.consilium;
        let mut frozen: Option<(usize, String)> = None;
        for r in &trace.steps {
            let i = r.index;
            if let Some((at, text)) = &frozen {
                for snap in [&r.mid, &r.after] {
                    prop_assert_eq!(
                        &snap.conclusion, text,
                        "step {}: signed conclusion (frozen at step {}) changed", i, at
                    );
                    prop_assert_eq!(
                        snap.frozen_hash, Some(text_hash(text)),
                        "step {}: frozen hash no longer matches the signed text", i
                    );
                }
                if let Some(e) = &r.edit {
                    prop_assert!(
                        !e.allowed,
                        "step {i}: conclusion_editable({}, {}) allowed editing a signed conclusion (to {:?})",
                        r.mid.status, r.mid.signatures, e.text
                    );
                }
            }
            if let Some(e) = &r.edit {
                prop_assert_eq!(
                    e.allowed,
                    r.before.status == Status::InProgress && r.before.signatures == 0,
                    "step {}: edit allowed={} in {} with {} signatures", i, e.allowed,
                    r.before.status, r.before.signatures
                );
            }
            prop_assert_eq!(
                r.after.frozen_hash.is_some(), r.after.signatures > 0,
                "step {}: frozen flag disagrees with the signature count", i
            );
            if frozen.is_none() && r.after.signatures > 0 {
                frozen = Some((i, r.after.conclusion.clone()));
            }
            prop_assert!(
                r.after.signatures <= size,
                "step {i}: {} signatures on a consilium of {size}", r.after.signatures
            );
            if r.after.status == Status::InProgress {
                prop_assert!(
                    r.after.signatures < size,
                    "step {i}: still in progress with all {size} signatures"
                );
            }
            if let Ok(d) = &r.result {
                if r.action == Action::Sign {
                    prop_assert_eq!(
                        d.to == Status::Completed, r.after.signatures == size,
                        "step {}: sign #{} of {} led to {}", i, r.after.signatures, size, d.to
                    );
                }
                if d.from == Status::InProgress && d.to == Status::Completed {
                    prop_assert_eq!(
                        r.action, Action::Sign,
                        "step {}: in_progress -> completed by something other than a signature", i
                    );
                }
                if d.to == Status::Completed {
                    // Either the consilium signed it, or the federal centre concluded.
                    prop_assert!(
                        r.after.signatures == size
                            || (d.from == Status::Escalated
                                && r.action == Action::RecordFederalConclusion),
                        "step {i}: completed with {} of {size} signatures via {} from {}",
                        r.after.signatures, r.action, d.from
                    );
                }
            }
        }
    }

    /// 4. The deadline clock stays consistent with the time spent in `Returned`.
    #[test]
    fn deadline_is_consistent(case in case_strategy()) {
        let trace = simulate(&case);
        let mut prev_deadline: Option<DateTime<Utc>> = None;
        let mut started = false;
        for r in &trace.steps {
            let i = r.index;
            prop_assert!(r.anomalies.is_empty(), "step {i}: {:?}", r.anomalies);
            if let Some(b) = r.started_budget {
                let c = r.after.clock.unwrap();
                prop_assert_eq!(c.started_at, r.mid.now, "step {}: clock started at the wrong time", i);
                prop_assert_eq!(
                    Duration::seconds(c.budget_seconds), b,
                    "step {}: clock budget differs from the policy for {}", i, r.ctx.form
                );
            }
            // While returned, the remaining time must not move as time advances.
            if r.before.status == Status::Returned {
                let (Some(cb), Some(cm)) = (r.before.clock, r.mid.clock) else {
                    prop_assert!(false, "step {i}: returned without a clock");
                    unreachable!();
                };
                prop_assert_eq!(
                    cb.remaining(r.before.now), cm.remaining(r.mid.now),
                    "step {}: remaining time changed by {}s while returned (advanced {}s)",
                    i,
                    (cb.remaining(r.before.now) - cm.remaining(r.mid.now)).num_seconds(),
                    (r.mid.now - r.before.now).num_seconds()
                );
            }
            for (label, snap) in [("before the decision", &r.mid), ("after the decision", &r.after)] {
                if snap.status.is_open()
                    && !matches!(snap.status, Status::Draft | Status::AwaitingApproval)
                {
                    prop_assert!(
                        snap.clock.is_some(),
                        "step {i} ({label}): open state {} without a deadline clock", snap.status
                    );
                }
                let Some(c) = snap.clock else { continue };
                started = true;
                let expected = c.started_at
                    + Duration::seconds(c.budget_seconds)
                    + Duration::seconds(c.paused_seconds);
                prop_assert_eq!(
                    c.deadline(), expected,
                    "step {} ({}): deadline != started_at + budget + paused", i, label
                );
                if let Some(p) = prev_deadline {
                    prop_assert!(
                        c.deadline() >= p,
                        "step {i} ({label}): deadline moved earlier, from {p} to {}", c.deadline()
                    );
                }
                prev_deadline = Some(c.deadline());
                if snap.status == Status::Returned {
                    prop_assert!(c.is_paused(), "step {i} ({label}): returned but the clock runs");
                } else if snap.status.is_open() {
                    prop_assert!(
                        !c.is_paused(),
                        "step {i} ({label}): clock paused in open state {}", snap.status
                    );
                }
                let paused_total = c.paused_seconds
                    + c.paused_at.map(|p| (snap.now - p).num_seconds()).unwrap_or(0);
                prop_assert_eq!(
                    paused_total, snap.returned_secs,
                    "step {} ({}): clock paused {}s but the request spent {}s in returned",
                    i, label, paused_total, snap.returned_secs
                );
                // Elapsed + paused = wall time since start.
                prop_assert_eq!(
                    c.elapsed(snap.now) + Duration::seconds(paused_total),
                    snap.now - c.started_at,
                    "step {} ({}): elapsed + paused != time since start", i, label
                );
            }
            if started {
                prop_assert!(r.after.clock.is_some(), "step {i}: the clock disappeared after starting");
            }
        }
    }

    /// 5. `available_actions` lists exactly the actions `decide` accepts, along a
    ///    random walk.
    #[test]
    fn available_actions_match_decide_on_walks(case in case_strategy()) {
        let trace = simulate(&case);
        for r in &trace.steps {
            let i = r.index;
            let status = r.mid.status;
            let got = available_actions(status, &r.roles, &r.ctx);
            let mut dedup = got.clone();
            dedup.sort();
            dedup.dedup();
            prop_assert_eq!(dedup.len(), got.len(), "step {}: duplicate actions in {:?}", i, got);
            let mut expected: Vec<Action> = Action::ALL
                .iter()
                .copied()
                .filter(|&a| decide(status, a, &r.roles, &r.ctx).is_ok())
                .collect();
            expected.sort();
            prop_assert_eq!(
                dedup, expected,
                "step {}: available_actions({}, {:?}) disagrees with decide", i, status, r.roles
            );
        }
    }

    /// 5b. The same, for any state (reached or not) and any guard facts.
    #[test]
    fn available_actions_match_decide_anywhere(
        status in prop::sample::select(Status::ALL.to_vec()),
        roles in roles_strategy(),
        form in form_strategy(),
        requires_head_approval in any::<bool>(),
        route_found in any::<bool>(),
        unsigned_members in 0usize..=4,
    ) {
        let ctx = GuardContext { form, requires_head_approval, route_found, urgent_routed: false, unsigned_members };
        let mut got = available_actions(status, &roles, &ctx);
        let n = got.len();
        got.sort();
        got.dedup();
        prop_assert_eq!(got.len(), n, "duplicate actions for {} {:?}", status, roles);
        let mut expected: Vec<Action> = Action::ALL
            .iter()
            .copied()
            .filter(|&a| decide(status, a, &roles, &ctx).is_ok())
            .collect();
        expected.sort();
        prop_assert_eq!(got, expected, "available_actions({}, {:?}, {:?}) disagrees with decide", status, roles, ctx);
    }
}

// ---------------------------------------------------------------------------
// The whole graph, over every state, action, role and guard fact
// ---------------------------------------------------------------------------

/// Where anybody can take a request from `status`, under any guard facts.
fn successors(status: Status) -> BTreeSet<Status> {
    let mut out = BTreeSet::new();
    for ctx in contexts() {
        for &a in Action::ALL {
            if let Ok(d) = decide(status, a, Role::ALL, &ctx) {
                out.insert(d.to);
            }
        }
    }
    out
}

fn reachable_from(start: Status) -> BTreeSet<Status> {
    let mut seen = BTreeSet::from([start]);
    let mut queue = vec![start];
    while let Some(s) = queue.pop() {
        for n in successors(s) {
            if seen.insert(n) {
                queue.push(n);
            }
        }
    }
    seen
}

/// A closed, cancelled or rejected request offers nothing to anybody; every
/// other state offers somebody something, whatever the guard facts.
#[test]
fn final_states_offer_nothing_and_the_others_are_no_dead_end() {
    for &status in Status::ALL {
        for ctx in contexts() {
            let offered = available_actions(status, Role::ALL, &ctx);
            if status.is_final() {
                assert!(
                    offered.is_empty(),
                    "final {status} offers {offered:?} ({ctx:?})"
                );
                for &a in Action::ALL {
                    assert_eq!(
                        decide(status, a, Role::ALL, &ctx),
                        Err(TransitionError::NotInThisState { status, action: a }),
                        "final {status} answers {a} with something else than 'not in this state'"
                    );
                }
            } else {
                assert!(!offered.is_empty(), "{status} is a dead end ({ctx:?})");
            }
        }
    }
}

/// The administrator, the analyst and the auditor do no clinical work: none of
/// them can move a request, in any state, whatever the guard facts.
#[test]
fn only_clinical_roles_move_a_request() {
    let others: Vec<Role> = Role::ALL
        .iter()
        .copied()
        .filter(|r| !r.is_clinical())
        .collect();
    assert!(!others.is_empty());
    for &s in Status::ALL {
        for ctx in contexts() {
            for &a in Action::ALL {
                let got = decide(s, a, &others, &ctx);
                assert!(got.is_err(), "{others:?} may {a} in {s}: {got:?}");
            }
            assert_eq!(
                available_actions(s, &others, &ctx),
                vec![],
                "offered to {others:?} in {s}"
            );
        }
    }
}

/// Every state of the vocabulary is reached from a new draft by the real
/// `decide`, `reachable_states()` says exactly that, and from every state a
/// request can still end (closed, cancelled or rejected).
#[test]
fn every_state_is_reachable_and_every_request_can_end() {
    let all: BTreeSet<Status> = Status::ALL.iter().copied().collect();
    let from_draft = reachable_from(Status::Draft);
    assert_eq!(
        from_draft,
        all,
        "states never reached from a draft: {:?}",
        all.difference(&from_draft).collect::<Vec<_>>()
    );
    let listed: BTreeSet<Status> = reachable_states().into_iter().collect();
    assert_eq!(
        listed, from_draft,
        "reachable_states() disagrees with decide"
    );
    for &s in Status::ALL {
        assert!(
            reachable_from(s).iter().any(|x| x.is_final()),
            "a request in {s} can never be closed, cancelled or rejected"
        );
    }
    // The first decision starts the deadline; nothing else starts it again.
    for &s in Status::ALL {
        for ctx in contexts() {
            for &a in Action::ALL {
                if let Ok(d) = decide(s, a, Role::ALL, &ctx) {
                    let starts = d.clock == ClockEffect::Start;
                    let leaves_unsent = matches!(s, Status::Draft | Status::AwaitingApproval)
                        && d.to.is_open()
                        && d.to != Status::AwaitingApproval;
                    assert_eq!(
                        starts, leaves_unsent,
                        "{s} --{a}--> {}: clock {:?}",
                        d.to, d.clock
                    );
                    assert_eq!(
                        d.clock == ClockEffect::Pause,
                        d.to == Status::Returned && s != Status::Returned,
                        "{s} --{a}--> {}: clock {:?}",
                        d.to,
                        d.clock
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The table users read: docs/API.md, "The lifecycle"
// ---------------------------------------------------------------------------

/// One row of the documented table.
#[derive(Debug)]
struct DocRow {
    actions: Vec<Action>,
    from: BTreeSet<Status>,
    who: BTreeSet<Role>,
    /// Per action, the states the documentation says it leads to.
    to: Vec<BTreeSet<Status>>,
}

fn words(cell: &str) -> impl Iterator<Item = &str> {
    cell.split(|c: char| !(c.is_ascii_lowercase() || c == '_'))
        .filter(|w| !w.is_empty())
}

/// The states named in a cell; "a … b" stands for every state from a to b.
fn doc_states(cell: &str) -> BTreeSet<Status> {
    let named: Vec<Status> = words(cell).filter_map(Status::parse).collect();
    if cell.contains('…') {
        let pos = |s: &Status| Status::ALL.iter().position(|x| x == s).unwrap();
        let (a, b) = (pos(named.first().unwrap()), pos(named.last().unwrap()));
        return Status::ALL[a..=b].iter().copied().collect();
    }
    named.into_iter().collect()
}

fn doc_table() -> Vec<DocRow> {
    let section = API_DOC
        .split("\n## The lifecycle\n")
        .nth(1)
        .expect("docs/API.md has no section 'The lifecycle'");
    let section = section.split("\n## ").next().unwrap();
    let mut rows = Vec::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        assert_eq!(cells.len(), 4, "unexpected row in docs/API.md: {line}");
        let actions: Vec<Action> = cells[0]
            .split('`')
            .skip(1)
            .step_by(2)
            .map(|a| Action::parse(a).unwrap_or_else(|| panic!("docs/API.md names no action {a}")))
            .collect();
        let to = if actions.len() > 1 {
            let parts: Vec<&str> = cells[3].split(" / ").collect();
            assert_eq!(
                parts.len(),
                actions.len(),
                "'to' does not pair with the actions: {line}"
            );
            parts.into_iter().map(doc_states).collect()
        } else {
            vec![doc_states(cells[3])]
        };
        rows.push(DocRow {
            actions,
            from: doc_states(cells[1]),
            who: words(cells[2]).filter_map(Role::parse).collect(),
            to,
        });
    }
    rows
}

/// For each documented action: the states it is possible in, who may take it
/// and where it leads are exactly what `decide` does.
#[test]
fn decide_does_what_the_api_documentation_says() {
    let table = doc_table();
    assert!(
        table.len() >= 10,
        "the lifecycle table of docs/API.md was not found"
    );
    let mut documented = BTreeSet::new();
    for row in &table {
        for (k, &action) in row.actions.iter().enumerate() {
            documented.insert(action);
            let mut from = BTreeSet::new();
            let mut who = BTreeSet::new();
            let mut to = BTreeSet::new();
            for &s in Status::ALL {
                for ctx in contexts() {
                    if let Ok(d) = decide(s, action, Role::ALL, &ctx) {
                        from.insert(s);
                        if d.to != s {
                            to.insert(d.to);
                        }
                    }
                    for &r in Role::ALL {
                        if decide(s, action, &[r], &ctx).is_ok() {
                            who.insert(r);
                        }
                    }
                }
            }
            assert_eq!(from, row.from, "{action}: the states it is possible in");
            assert_eq!(who, row.who, "{action}: the roles that may take it");
            // Staying in place (another assignment, a signature that is not
            // the last) is not a destination of its own in the documentation.
            assert_eq!(to, row.to[k], "{action}: where it leads");
        }
    }
    // Questions and answers are messages in the API, not documented actions.
    let undocumented: Vec<Action> = Action::ALL
        .iter()
        .copied()
        .filter(|a| !documented.contains(a))
        .collect();
    assert_eq!(undocumented, vec![Action::Ask, Action::Answer]);
}

/// The steering must actually reach the interesting states, or the properties
/// above would pass vacuously. Deterministic: runs a fixed number of cases
/// from a fixed seed and counts what was seen.
#[test]
fn walks_cover_the_lifecycle() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let strategy = case_strategy();
    let mut seen: Vec<Status> = Vec::new();
    let mut multi_signed = 0;
    let mut returned_then_resumed = 0;
    let mut forbidden = 0;
    let mut not_in_state = 0;
    for _ in 0..512 {
        let case = strategy.new_tree(&mut runner).unwrap().current();
        let trace = simulate(&case);
        for r in &trace.steps {
            if !seen.contains(&r.after.status) {
                seen.push(r.after.status);
            }
            match r.result {
                Err(TransitionError::Forbidden { .. }) => forbidden += 1,
                Err(TransitionError::NotInThisState { .. }) => not_in_state += 1,
                Ok(d) if d.clock == ClockEffect::Resume && d.to == Status::Submitted => {
                    returned_then_resumed += 1
                }
                _ => {}
            }
        }
        if trace.consilium > 1
            && trace
                .steps
                .last()
                .is_some_and(|r| r.after.signatures == trace.consilium)
        {
            multi_signed += 1;
        }
    }
    for &s in Status::ALL {
        assert!(seen.contains(&s), "no walk reached {s}; seen {seen:?}");
    }
    assert!(
        multi_signed > 0,
        "no walk completed a multi-member consilium"
    );
    assert!(
        returned_then_resumed > 0,
        "no walk resubmitted a returned request"
    );
    assert!(forbidden > 0 && not_in_state > 0, "errors not exercised");
}
