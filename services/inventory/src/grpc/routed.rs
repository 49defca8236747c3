//! `vigie.inventory.v1.InventoryService` as it is routed: `GetStructure` and
//! `GetFragility` answered with the kept encoding of their answer
//! ([`super::answers`], written as it is by the platform's
//! [`encoded`](vigie_platform::grpc::encoded) codec), every other method by
//! the generated server. The answers are those of the generated methods,
//! byte for byte (tested); only the copy and the encoding at every call are
//! saved.

use std::convert::Infallible;
use std::task::{Context, Poll};

use tonic::body::Body;
use tonic::codegen::{http, Body as HttpBody, BoxFuture, Service, StdError};
use tonic::server::NamedService;
use vigie_platform::grpc::encoded::{self, MessageLimits};
use vigie_proto::inventory::v1::inventory_service_server::InventoryServiceServer;

use super::InventoryApi;

const GET_STRUCTURE: &str = "/vigie.inventory.v1.InventoryService/GetStructure";
const GET_FRAGILITY: &str = "/vigie.inventory.v1.InventoryService/GetFragility";

/// The inventory's tonic service, to add to a server's routes.
#[derive(Clone)]
pub struct InventoryGrpc {
    api: InventoryApi,
    generated: InventoryServiceServer<InventoryApi>,
    limits: MessageLimits,
}

impl InventoryGrpc {
    /// Serves `api`.
    pub fn new(api: InventoryApi) -> Self {
        InventoryGrpc {
            generated: InventoryServiceServer::new(api.clone()),
            api,
            limits: MessageLimits::default(),
        }
    }

    /// Largest request accepted, in bytes, by every method.
    #[must_use]
    pub fn max_decoding_message_size(mut self, limit: usize) -> Self {
        self.generated = self.generated.max_decoding_message_size(limit);
        self.limits.decoding = Some(limit);
        self
    }

    /// Largest answer sent, in bytes, by every method.
    #[must_use]
    pub fn max_encoding_message_size(mut self, limit: usize) -> Self {
        self.generated = self.generated.max_encoding_message_size(limit);
        self.limits.encoding = Some(limit);
        self
    }
}

impl NamedService for InventoryGrpc {
    const NAME: &'static str = <InventoryServiceServer<InventoryApi> as NamedService>::NAME;
}

impl<B> Service<http::Request<B>> for InventoryGrpc
where
    B: HttpBody + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let api = self.api.clone();
        match request.uri().path() {
            GET_STRUCTURE => encoded::unary(request, self.limits, move |request| async move {
                api.get_structure_encoded(request).await
            }),
            GET_FRAGILITY => encoded::unary(request, self.limits, move |request| async move {
                api.get_fragility_encoded(request).await
            }),
            _ => self.generated.call(request),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kept_paths_are_methods_of_the_service() {
        use prost::Message as _;
        let set = prost_types::FileDescriptorSet::decode(vigie_proto::FILE_DESCRIPTOR_SET).expect("descriptors");
        let methods: Vec<String> = set
            .file
            .iter()
            .flat_map(|file| {
                file.service.iter().flat_map(move |service| {
                    service
                        .method
                        .iter()
                        .map(move |method| format!("/{}.{}/{}", file.package(), service.name(), method.name()))
                })
            })
            .collect();
        for path in [GET_STRUCTURE, GET_FRAGILITY] {
            assert!(methods.iter().any(|m| m == path), "{path} is a method");
            assert!(path.starts_with(&format!("/{}/", InventoryGrpc::NAME)));
        }
    }
}
