//! The daemon. (Skeleton: being filled in.)
