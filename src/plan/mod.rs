//! The differ, the plan value, its ordering and its renderers. Pure.
