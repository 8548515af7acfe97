//! Integration tests of store-server, against a real MongoDB-wire server
//! (`$MONGODB_URI`; `./scripts/test.sh` provides one).
//!
//! One binary, one module per area; `helpers` starts a store per test, each
//! on its own port with its own database.

mod assertions;
mod attachments;
mod binary;
mod blocks;
mod conversations;
mod direct_and_reads;
mod groups;
mod hardening;
mod health_and_auth;
mod helpers;
mod idempotency;
mod instances;
mod membership;
mod message_errors;
mod messages;
mod nodes;
mod paging;
mod presence;
mod queues;
mod reactions_and_changes;
mod resilience;
mod retention;
mod search;
mod users;
