//! One test per transition, named by what a user would see.

use serde_json::json;
use terrane_api::ManagedObject;
use terrane_api::reason::*;
use terrane_provider::ProviderError;

use super::fake::{CreateScript, FakeEnv, apply, cleanup, ready, reconciler, widget};
use crate::reconciler::observe::doubt_ends;
use crate::reconciler::{EnvError, Next, RefState};

fn spec(size: i32) -> serde_json::Value {
    json!({"resource": {"size": size}})
}

#[tokio::test]
async fn creates_once_and_stores_the_id_before_anything_else() {
    let (r, env, mut w) = (reconciler(), FakeEnv::default(), widget("a", spec(2)));
    let o = apply(&r, &mut w, &env).await;
    assert_eq!((o.next, o.verdict.reason), (Next::Resync, SUCCESS));
    let saved = env.saved();
    assert!(saved[0].pending_create.is_some() && saved[0].id.is_none(), "pendingCreate is stored before the create");
    assert!(saved[1].id.is_some() && saved[1].pending_create.is_none(), "the ID is stored right after it");
    assert_eq!(env.cloud.count(), 1);
    assert_eq!(env.reasons(), ["Created"]);
    assert!(w.status().is_some_and(|s| s.is_ready() && s.resource.is_some()));
}

#[tokio::test]
async fn a_second_reconcile_finds_the_object_by_id_and_creates_nothing() {
    let (r, env, mut w) = (reconciler(), FakeEnv::default(), widget("a", spec(2)));
    apply(&r, &mut w, &env).await;
    let o = apply(&r, &mut w, &env).await;
    assert_eq!(o.next, Next::Resync);
    assert_eq!((env.cloud.count(), env.cloud.calls_of("create")), (1, 1));
}

#[tokio::test]
async fn a_drift_check_may_read_a_list_but_never_one_older_than_the_last_change() {
    let (r, env, mut w) = (reconciler(), FakeEnv::default(), widget("a", spec(2)));
    apply(&r, &mut w, &env).await;
    assert!(env.cloud.last_get().ends_with("Fresh"), "after a create: {}", env.cloud.last_get());
    apply(&r, &mut w, &env).await;
    assert!(env.cloud.last_get().ends_with("Cached { max_age_secs: 0 }"), "just changed: {}", env.cloud.last_get());
    // Another process (after a restart) did not change it: half the 600 s period will do.
    apply(&reconciler(), &mut w, &env).await;
    assert!(env.cloud.last_get().ends_with("Cached { max_age_secs: 300 }"), "{}", env.cloud.last_get());
}

#[tokio::test]
async fn adopts_after_a_crash_between_create_and_storing_the_id() {
    let (r, env, mut w) = (reconciler(), FakeEnv::default(), widget("a", spec(2)));
    let id = env.cloud.insert("a", "uid-a", 2);
    w.status =
        Some(terrane_api::ResourceStatus { pending_create: Some("2026-12-02T12:00:00Z".into()), ..Default::default() });
    let o = apply(&r, &mut w, &env).await;
    assert_eq!(o.next, Next::Resync);
    assert_eq!(w.status().and_then(|s| s.id.clone()), Some(id));
    assert_eq!(env.reasons(), ["Adopted"]);
    assert_eq!(env.cloud.calls_of("create"), 0);
}

#[tokio::test]
async fn a_create_whose_answer_is_lost_keeps_pending_create_and_adopts_what_landed() {
    let (r, env, mut w) = (reconciler(), FakeEnv::default(), widget("a", spec(2)));
    env.cloud.next_create.lock().unwrap().push_back(CreateScript::LandsButAnswerLost);
    let o = apply(&r, &mut w, &env).await;
    assert_eq!((o.next, o.verdict.reason), (Next::Poll, TRANSIENT_ERROR));
    assert!(o.verdict.message.contains("may still take effect") || o.verdict.message.contains("ownership marker"));
    assert!(w.status().is_some_and(|s| s.pending_create.is_some() && s.id.is_none()));
    let o = apply(&r, &mut w, &env).await;
    assert_eq!(o.next, Next::Resync);
    assert_eq!((env.cloud.count(), env.cloud.calls_of("create")), (1, 1), "exactly one widget, one create");
    assert!(env.reasons().contains(&"Adopted"));
}

#[tokio::test]
async fn a_create_lost_without_landing_is_sent_again_only_after_the_wait() {
    let (r, env, mut w) = (reconciler(), FakeEnv::default(), widget("a", spec(2)));
    env.cloud.next_create.lock().unwrap().push_back(CreateScript::Fail(ProviderError::OutcomeUnknown("lost".into())));
    apply(&r, &mut w, &env).await;
    let o = apply(&r, &mut w, &env).await;
    assert_eq!((o.next, o.verdict.reason), (Next::Poll, PROGRESSING));
    assert!(o.verdict.message.contains("may still land"), "{}", o.verdict.message);
    assert_eq!(env.cloud.calls_of("create"), 1, "no second create while the first may land");
    // The marker has been absent for longer than the wait.
    if let Some(s) = w.status.as_mut() {
        s.marker_absent_since = Some("2020-01-01T00:00:00Z".into());
    }
    let o = apply(&r, &mut w, &env).await;
    assert_eq!(o.next, Next::Resync);
    assert_eq!((env.cloud.count(), env.cloud.calls_of("create")), (1, 2));
}

#[tokio::test]
async fn a_create_refused_transiently_clears_pending_create_and_retries() {
    let (r, env, mut w) = (reconciler(), FakeEnv::default(), widget("a", spec(2)));
    env.cloud.next_create.lock().unwrap().push_back(CreateScript::Fail(ProviderError::Transient("503".into())));
    let o = apply(&r, &mut w, &env).await;
    assert_eq!((o.next, o.verdict.reason, o.verdict.synced), (Next::Retry, TRANSIENT_ERROR, false));
    assert!(w.status().is_some_and(|s| s.pending_create.is_none()), "nothing was made");
    assert_eq!(env.reasons(), [TRANSIENT_ERROR], "a failure is an Event");
    let o = apply(&r, &mut w, &env).await;
    assert_eq!(o.next, Next::Resync);
    assert_eq!(env.cloud.count(), 1);
}

#[tokio::test]
async fn a_terminal_create_error_stalls_with_its_message() {
    let (r, env, mut w) = (reconciler(), FakeEnv::default(), widget("a", spec(2)));
    env.cloud.next_create.lock().unwrap().push_back(CreateScript::Fail(ProviderError::invalid("size too big")));
    let o = apply(&r, &mut w, &env).await;
    assert_eq!((o.next, o.verdict.reason), (Next::Stalled, INVALID_CONFIGURATION));
    assert_eq!(ready(&w), (INVALID_CONFIGURATION.into(), "create: size too big".into()));
    assert_eq!(env.reasons(), [INVALID_CONFIGURATION]);
}

#[tokio::test]
async fn a_create_that_clashes_is_invalid_configuration_naming_import() {
    let (r, env, mut w) = (reconciler(), FakeEnv::default(), widget("a", spec(2)));
    env.cloud.next_create.lock().unwrap().push_back(CreateScript::Fail(ProviderError::Conflict("name taken".into())));
    let o = apply(&r, &mut w, &env).await;
    assert_eq!((o.next, o.verdict.reason), (Next::Stalled, INVALID_CONFIGURATION));
    assert!(o.verdict.message.contains("import the existing object"), "{}", o.verdict.message);
}

#[tokio::test]
async fn a_repeated_failure_is_one_event() {
    let (r, env, mut w) = (reconciler(), FakeEnv::default(), widget("a", spec(2)));
    for _ in 0..3 {
        env.cloud.next_create.lock().unwrap().push_back(CreateScript::Fail(ProviderError::Transient("503".into())));
        apply(&r, &mut w, &env).await;
    }
    assert_eq!(env.reasons(), [TRANSIENT_ERROR]);
}

#[tokio::test]
async fn import_matching_nothing_waits_with_backoff() {
    let (r, env) = (reconciler(), FakeEnv::default());
    let mut w = widget("a", json!({"import": {"filter": {"name": "shared"}}}));
    let o = apply(&r, &mut w, &env).await;
    assert_eq!((o.next, o.verdict.reason, o.verdict.synced), (Next::Retry, WAITING, true));
    assert_eq!(env.cloud.calls_of("create"), 0);
}

#[tokio::test]
async fn import_matching_one_takes_it_over() {
    let (r, env) = (reconciler(), FakeEnv::default());
    let id = env.cloud.insert("shared", "someone-else", 5);
    let mut w = widget("a", json!({"import": {"filter": {"name": "shared"}}}));
    let o = apply(&r, &mut w, &env).await;
    assert_eq!(o.next, Next::Resync);
    assert_eq!(w.status().and_then(|s| s.id.clone()), Some(id));
    assert_eq!(env.reasons(), ["Imported"]);
    assert_eq!(env.cloud.calls_of("create"), 0);
}

#[tokio::test]
async fn import_matching_two_is_invalid_and_names_both() {
    let (r, env) = (reconciler(), FakeEnv::default());
    let (a, b) = (env.cloud.insert("shared", "x", 1), env.cloud.insert("shared", "y", 1));
    let mut w = widget("a", json!({"import": {"filter": {"name": "shared"}}}));
    let o = apply(&r, &mut w, &env).await;
    assert_eq!((o.next, o.verdict.reason), (Next::Stalled, INVALID_CONFIGURATION));
    assert!(o.verdict.message.contains(&a) && o.verdict.message.contains(&b), "{}", o.verdict.message);
}

#[tokio::test]
async fn an_object_deleted_outside_terrane_is_created_again() {
    let (r, env, mut w) = (reconciler(), FakeEnv::default(), widget("a", spec(2)));
    apply(&r, &mut w, &env).await;
    env.cloud.objects.lock().unwrap().clear();
    let o = apply(&r, &mut w, &env).await;
    assert_eq!(o.next, Next::Resync);
    assert_eq!(env.cloud.count(), 1);
    assert_eq!(env.reasons(), ["Created", "Recreating", "Created"]);
}

#[tokio::test]
async fn an_imported_object_deleted_outside_terrane_is_unrecoverable() {
    let (r, env) = (reconciler(), FakeEnv::default());
    env.cloud.insert("shared", "x", 1);
    let mut w = widget("a", json!({"import": {"filter": {"name": "shared"}}}));
    apply(&r, &mut w, &env).await;
    env.cloud.objects.lock().unwrap().clear();
    let o = apply(&r, &mut w, &env).await;
    assert_eq!((o.next, o.verdict.reason), (Next::Stalled, UNRECOVERABLE));
    assert_eq!(env.cloud.calls_of("create"), 0, "an imported object is never made by Terrane");
}

#[tokio::test]
async fn a_changed_mutable_field_is_updated() {
    let (r, env, mut w) = (reconciler(), FakeEnv::default(), widget("a", spec(2)));
    apply(&r, &mut w, &env).await;
    if let Some(x) = w.spec.resource.as_mut() {
        x.size = Some(3);
    }
    w.metadata.generation = Some(2);
    let o = apply(&r, &mut w, &env).await;
    assert_eq!(o.next, Next::Resync);
    assert_eq!(env.cloud.objects.lock().unwrap().values().next().map(|x| x.size), Some(3));
    assert_eq!(env.reasons(), ["Created", "Updated"]);
    assert_eq!(w.status().and_then(|s| s.observed_generation), Some(2));
}

#[tokio::test]
async fn drift_in_the_cloud_is_corrected_at_the_next_check() {
    let (r, env, mut w) = (reconciler(), FakeEnv::default(), widget("a", spec(2)));
    apply(&r, &mut w, &env).await;
    let id = w.status().and_then(|s| s.id.clone()).unwrap_or_default();
    env.cloud.set(&id, |x| x.size = 9);
    apply(&r, &mut w, &env).await;
    assert_eq!(env.cloud.objects.lock().unwrap()[&id].size, 2);
    assert_eq!(env.reasons(), ["Created", "DriftCorrected"]);
}

#[tokio::test]
async fn drift_found_after_waiting_on_a_reference_is_still_drift() {
    let (r, env) = (reconciler(), FakeEnv::default());
    let mut w = widget("b", json!({"resource": {"needs": "base", "size": 2}}));
    env.refs.lock().unwrap().insert("base".into(), RefState::Ready("w-0".into(), json!({})));
    apply(&r, &mut w, &env).await;
    let id = w.status().and_then(|s| s.id.clone()).unwrap_or_default();
    env.cloud.set(&id, |x| x.size = 9);
    env.refs.lock().unwrap().insert("base".into(), RefState::NotReady);
    assert_eq!(apply(&r, &mut w, &env).await.verdict.reason, WAITING);
    env.refs.lock().unwrap().insert("base".into(), RefState::Ready("w-0".into(), json!({})));
    apply(&r, &mut w, &env).await;
    assert_eq!(env.cloud.objects.lock().unwrap()[&id].size, 2);
    assert_eq!(env.reasons(), ["Created", "DriftCorrected"]);
}

#[tokio::test]
async fn an_immutable_difference_stalls_and_changes_nothing() {
    let (r, env, mut w) = (reconciler(), FakeEnv::default(), widget("a", json!({"resource": {"zone": "a"}})));
    apply(&r, &mut w, &env).await;
    if let Some(x) = w.spec.resource.as_mut() {
        x.zone = Some("b".into());
    }
    w.metadata.generation = Some(2);
    let o = apply(&r, &mut w, &env).await;
    assert_eq!((o.next, o.verdict.reason), (Next::Stalled, INVALID_CONFIGURATION));
    assert!(
        o.verdict.message.contains("zone is \"a\" in the cloud but the spec asks for \"b\""),
        "{}",
        o.verdict.message
    );
    assert_eq!(env.cloud.calls_of("update"), 0);
}

#[tokio::test]
async fn a_busy_cloud_object_is_progressing_and_a_broken_one_unrecoverable() {
    let (r, env, mut w) = (reconciler(), FakeEnv::default(), widget("a", spec(2)));
    apply(&r, &mut w, &env).await;
    let id = w.status().and_then(|s| s.id.clone()).unwrap_or_default();
    env.cloud.set(&id, |x| x.status = "BUILD".into());
    let o = apply(&r, &mut w, &env).await;
    assert_eq!((o.next, o.verdict.reason), (Next::Poll, PROGRESSING));
    env.cloud.set(&id, |x| x.status = "ERROR".into());
    let o = apply(&r, &mut w, &env).await;
    assert_eq!((o.next, o.verdict.reason), (Next::Stalled, UNRECOVERABLE));
    assert!(o.verdict.message.contains("ERROR"));
}

#[tokio::test]
async fn a_duplicate_carrying_the_marker_is_deleted_at_a_drift_check() {
    let (r, env, mut w) = (reconciler(), FakeEnv::default(), widget("a", spec(2)));
    apply(&r, &mut w, &env).await;
    let dup = env.cloud.insert("a", "uid-a", 2);
    let o = apply(&r, &mut w, &env).await;
    assert_eq!((o.next, o.verdict.reason), (Next::Poll, PROGRESSING));
    assert!(!env.cloud.objects.lock().unwrap().contains_key(&dup));
    assert_eq!(env.cloud.count(), 1);
    assert!(env.reasons().contains(&"DuplicateDeleted"));
}

#[tokio::test]
async fn a_missing_reference_waits_and_warns_once_naming_it() {
    let (r, env) = (reconciler(), FakeEnv::default());
    let mut w = widget("b", json!({"resource": {"needs": "base"}}));
    for _ in 0..3 {
        let o = apply(&r, &mut w, &env).await;
        assert_eq!((o.next, o.verdict.reason, o.verdict.synced), (Next::AwaitChange, WAITING, true));
        assert_eq!(o.verdict.message, "Waiting on Widget/base (not found)");
    }
    assert_eq!(env.reasons(), ["ReferenceNotFound"], "one Warning, not one per poll");
    let note = env.events.lock().unwrap()[0].message.clone();
    assert!(note.contains("resource.needs names Widget/base"), "{note}");
    assert_eq!(env.cloud.calls_of("create"), 0);
}

#[tokio::test]
async fn a_reference_not_ready_waits_quietly_then_proceeds() {
    let (r, env) = (reconciler(), FakeEnv::default());
    let mut w = widget("b", json!({"resource": {"needs": "base"}}));
    env.refs.lock().unwrap().insert("base".into(), RefState::NotReady);
    let o = apply(&r, &mut w, &env).await;
    assert_eq!((o.next, o.verdict.message.as_str()), (Next::AwaitChange, "Waiting on Widget/base"));
    assert!(env.reasons().is_empty());
    env.refs.lock().unwrap().insert("base".into(), RefState::Ready("w-0".into(), json!({})));
    assert_eq!(apply(&r, &mut w, &env).await.next, Next::Resync);
}

#[tokio::test]
async fn missing_credentials_wait_and_an_invalid_secret_stalls() {
    let (r, env, mut w) = (reconciler(), FakeEnv::default(), widget("a", spec(2)));
    *env.cloud_error.lock().unwrap() = Some(EnvError::ProviderConfigMissing("cloud".into()));
    let o = apply(&r, &mut w, &env).await;
    assert_eq!((o.next, o.verdict.message.as_str()), (Next::AwaitChange, "Waiting on ProviderConfig/cloud"));
    *env.cloud_error.lock().unwrap() = Some(EnvError::Credentials(ProviderError::invalid("bad clouds.yaml")));
    let o = apply(&r, &mut w, &env).await;
    assert_eq!((o.next, o.verdict.reason), (Next::Stalled, INVALID_CONFIGURATION));
    assert_eq!(env.cloud.count(), 0);
}

#[tokio::test]
async fn observe_only_without_import_is_invalid() {
    let (r, env) = (reconciler(), FakeEnv::default());
    let mut w = widget("a", json!({"managementPolicy": "ObserveOnly", "resource": {"size": 1}}));
    let o = apply(&r, &mut w, &env).await;
    assert_eq!((o.next, o.verdict.reason), (Next::Stalled, INVALID_CONFIGURATION));
}

#[tokio::test]
async fn observe_only_never_changes_or_deletes_the_cloud_object() {
    let (r, env) = (reconciler(), FakeEnv::default());
    let id = env.cloud.insert("shared", "x", 1);
    let mut w = widget("a", json!({"managementPolicy": "ObserveOnly", "import": {"id": id}, "resource": {"size": 7}}));
    let o = apply(&r, &mut w, &env).await;
    assert_eq!(o.next, Next::Resync);
    assert_eq!(env.cloud.objects.lock().unwrap()[&id].size, 1);
    let o = cleanup(&r, &mut w, &env).await;
    assert_eq!(o.next, Next::Deleted);
    assert_eq!(env.cloud.count(), 1);
    assert_eq!((env.cloud.calls_of("update"), env.cloud.calls_of("delete")), (0, 0));
}

#[tokio::test]
async fn deletion_waits_for_referrers_then_deletes() {
    let (r, env, mut w) = (reconciler(), FakeEnv::default(), widget("a", spec(2)));
    apply(&r, &mut w, &env).await;
    env.referrers.lock().unwrap().push("Widget/b".into());
    let o = cleanup(&r, &mut w, &env).await;
    assert_eq!(
        (o.next, o.verdict.message.as_str()),
        (Next::AwaitChange, "deletion waits until these are deleted: Widget/b")
    );
    assert_eq!(env.cloud.count(), 1);
    env.referrers.lock().unwrap().clear();
    let o = cleanup(&r, &mut w, &env).await;
    assert_eq!(o.next, Next::Deleted);
    assert_eq!(env.cloud.count(), 0);
    assert!(env.reasons().contains(&"Deleted"));
}

#[tokio::test]
async fn deletion_takes_every_cloud_object_carrying_the_marker() {
    let (r, env, mut w) = (reconciler(), FakeEnv::default(), widget("a", spec(2)));
    apply(&r, &mut w, &env).await;
    env.cloud.insert("a", "uid-a", 2);
    env.cloud.insert("other", "uid-other", 2);
    assert_eq!(cleanup(&r, &mut w, &env).await.next, Next::Deleted);
    assert_eq!(env.cloud.count(), 1, "only the other object's widget is left");
}

#[tokio::test]
async fn a_delete_refused_for_good_says_how_to_let_go() {
    let (r, env, mut w) = (reconciler(), FakeEnv::default(), widget("a", spec(2)));
    apply(&r, &mut w, &env).await;
    env.cloud.next_delete.lock().unwrap().push_back(ProviderError::invalid("protected"));
    let o = cleanup(&r, &mut w, &env).await;
    assert_eq!((o.next, o.verdict.reason), (Next::Stalled, INVALID_CONFIGURATION));
    assert!(o.verdict.message.contains("deletionPolicy: Orphan"), "{}", o.verdict.message);
}

#[tokio::test]
async fn orphan_leaves_the_cloud_object() {
    let (r, env, mut w) = (reconciler(), FakeEnv::default(), widget("a", json!({"deletionPolicy": "Orphan"})));
    w.spec.resource = Some(Default::default());
    apply(&r, &mut w, &env).await;
    let o = cleanup(&r, &mut w, &env).await;
    assert_eq!(o.next, Next::Deleted);
    assert_eq!(env.cloud.count(), 1);
    assert!(env.reasons().contains(&"Orphaned"));
}

#[tokio::test]
async fn an_object_that_never_made_anything_is_let_go_without_the_cloud() {
    let (r, env, mut w) = (reconciler(), FakeEnv::default(), widget("a", spec(2)));
    *env.cloud_error.lock().unwrap() = Some(EnvError::ProviderConfigMissing("cloud".into()));
    assert_eq!(cleanup(&r, &mut w, &env).await.next, Next::Deleted);
}

#[test]
fn a_create_in_doubt_may_be_sent_again_only_after_the_wait() {
    let end = doubt_ends("2026-12-02T12:00:00Z", std::time::Duration::from_secs(60)).expect("a time");
    assert_eq!(end.to_string(), "2026-12-02T12:01:00Z");
    assert!(doubt_ends("not a time", std::time::Duration::from_secs(60)).is_none());
}
