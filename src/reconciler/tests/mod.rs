//! Every transition of the reconciler, in memory: a fake environment and a
//! scripted fake kind, no Kubernetes, no cloud.

mod fake;
mod transitions;
