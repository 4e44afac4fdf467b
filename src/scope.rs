//! OAuth2 scopes.
