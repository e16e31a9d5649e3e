//! The APIG HTTP client: one send path that signs, retries and classifies errors.
