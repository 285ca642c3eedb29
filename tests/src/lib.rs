//! End-to-end tests: HTTP journeys and browser journeys.
