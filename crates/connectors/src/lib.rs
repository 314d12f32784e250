//! Host connectors. (Skeleton: being filled in.)
