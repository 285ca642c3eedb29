//! Persistence: sea-orm entities, queries, the job queue.
