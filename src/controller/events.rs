//! Kubernetes Events (`events.k8s.io/v1`) for Terrane objects.
//!
//! kube-runtime's `Recorder` folds every event with the same reason and
//! action into one series and keeps the first note, so "updated flavorRef"
//! after "updated name" was never shown. Here the note is part of the key:
//! only true repeats become a series.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::{Event, EventSeries};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, Patch, PatchParams, PostParams};
use std::sync::Mutex;

use crate::reconciler::Event as TerraneEvent;

/// How long a repeat is folded into an earlier event's series.
const SERIES_WINDOW: Duration = Duration::from_secs(6 * 60);

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    uid: String,
    warning: bool,
    reason: &'static str,
    note: String,
}

/// Publishes events as controller `terrane`, instance `identity`.
pub struct EventRecorder {
    client: kube::Client,
    instance: String,
    recent: Mutex<HashMap<Key, (Instant, Event)>>,
}

impl EventRecorder {
    pub fn new(client: kube::Client, instance: String) -> Self {
        Self { client, instance, recent: Mutex::new(HashMap::new()) }
    }

    /// Records `ev` about `regarding`; a repeat of the same reason and note
    /// within a few minutes bumps the earlier event's series count instead.
    pub async fn publish(&self, ev: &TerraneEvent, regarding: ObjectReference) -> Result<(), kube::Error> {
        let ns = regarding.namespace.clone().unwrap_or_else(|| "default".into());
        let api = Api::<Event>::namespaced(self.client.clone(), &ns);
        let note: String = ev.message.chars().take(1000).collect();
        let key = Key {
            uid: regarding.uid.clone().unwrap_or_default(),
            warning: ev.warning,
            reason: ev.reason,
            note: note.clone(),
        };
        let now = Timestamp::now();
        // The lock covers the map only, never an HTTP call: Events of other
        // objects do not wait behind this one's round trip.
        let repeat = {
            let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
            recent.retain(|_, (at, _)| at.elapsed() < SERIES_WINDOW);
            recent.get_mut(&key).map(|(_, earlier)| {
                let count = earlier.series.as_ref().map(|s| s.count + 1).unwrap_or(2);
                earlier.series = Some(EventSeries { count, last_observed_time: MicroTime(now) });
                (earlier.metadata.name.clone().unwrap_or_default(), earlier.series.clone())
            })
        };
        if let Some((name, series)) = repeat {
            let patch = serde_json::json!({ "series": series });
            return api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch)).await.map(|_| ());
        }
        let event = Event {
            metadata: ObjectMeta {
                // An object name may use all 253 characters an Event name may have.
                name: Some(format!(
                    "{}.{:x}",
                    regarding.name.clone().unwrap_or_default().chars().take(200).collect::<String>(),
                    now.as_nanosecond()
                )),
                namespace: Some(ns),
                ..Default::default()
            },
            event_time: Some(MicroTime(now)),
            type_: Some(if ev.warning { "Warning" } else { "Normal" }.into()),
            reason: Some(ev.reason.into()),
            action: Some(ev.action.into()),
            note: Some(note),
            regarding: Some(regarding),
            reporting_controller: Some("terrane.dev/controller".into()),
            reporting_instance: Some(self.instance.clone()),
            ..Default::default()
        };
        let created = api.create(&PostParams::default(), &event).await?;
        self.recent.lock().unwrap_or_else(|p| p.into_inner()).insert(key, (Instant::now(), created));
        Ok(())
    }
}
