//! Storage. (Skeleton: being filled in.)
