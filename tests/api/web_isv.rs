//! Web journeys (isv pages) against a real server, without JavaScript.
