//! grpc (in progress)
