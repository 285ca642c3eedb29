//! HTML forms generated from a contract's input JSON Schema, and the parsing
//! of what they post back into the JSON the app receives.
