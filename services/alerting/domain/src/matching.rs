//! Matching calls to structures: audiences, territory, subscription preferences.
