//! Guarded-PID hooks for the Unixes other than Linux (macOS, the BSDs).
