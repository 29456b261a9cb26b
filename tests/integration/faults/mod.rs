//! The runtime under faults, hostile output and bad data (issue #12): one file per area, all
//! against the real binary. [`proxy`] injects HTTP faults in front of the real MLflow server
//! or the GitLab replica.

mod dropped;
mod hostile;
mod no_model;
mod orphans;
mod output;
pub mod proxy;
mod secrets;
mod signals;
mod unavailable;
mod versions;
