//! Windows: process HANDLEs.
