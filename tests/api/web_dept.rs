//! Web journeys (dept pages) against a real server, without JavaScript.
