//! Web journeys (market pages) against a real server, without JavaScript.
