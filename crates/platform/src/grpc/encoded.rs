//! Unary methods answered with a message encoded once and kept.
//!
//! A service that keeps its answers (the inventory's `GetStructure` and
//! `GetFragility`) would otherwise copy the kept message at every call, encode
//! the copy and free it: at 64 callers that was a fifth of the server's time.
//! Here the handler returns the kept bytes ([`Bytes`], shared, not copied)
//! and [`EncodedCodec`] writes them as they are. Requests are decoded by
//! tonic's own prost decoder, as in the generated servers. The message size limits of the
//! generated servers apply the same way ([`MessageLimits`]).
//!
//! A service routes its kept methods here and every other path to its
//! generated server (see the inventory's `grpc/routed.rs`).

use std::convert::Infallible;
use std::future::Future;
use std::marker::PhantomData;

use bytes::{BufMut as _, Bytes};
use tonic::body::Body;
use tonic::codec::{Codec, EncodeBuf, Encoder};
use tonic::codegen::{Body as HttpBody, BoxFuture, StdError};
use tonic::{Request, Response, Status};
use tonic_prost::ProstDecoder;

/// Encodes answers already encoded ([`Bytes`]); decodes requests `U` with prost.
#[derive(Debug)]
pub struct EncodedCodec<U>(PhantomData<fn() -> U>);

impl<U> Default for EncodedCodec<U> {
    fn default() -> Self {
        EncodedCodec(PhantomData)
    }
}

impl<U: prost::Message + Default + Send + 'static> Codec for EncodedCodec<U> {
    type Encode = Bytes;
    type Decode = U;
    type Encoder = WriteEncoded;
    type Decoder = ProstDecoder<U>;

    fn encoder(&mut self) -> WriteEncoded {
        WriteEncoded
    }

    fn decoder(&mut self) -> ProstDecoder<U> {
        ProstDecoder::default()
    }
}

/// Writes an encoded message as it is.
#[derive(Debug)]
pub struct WriteEncoded;

impl Encoder for WriteEncoded {
    type Item = Bytes;
    type Error = Status;

    fn encode(&mut self, item: Bytes, buf: &mut EncodeBuf<'_>) -> Result<(), Status> {
        // tonic checks the framed length against the encoding limit after.
        buf.put_slice(&item);
        Ok(())
    }
}

/// The message size limits of one service, as its generated server has them
/// (`max_decoding_message_size`, `max_encoding_message_size`; `None`: tonic's
/// defaults, 4 MiB in and unbounded out).
#[derive(Debug, Clone, Copy, Default)]
pub struct MessageLimits {
    /// Largest request accepted, in bytes.
    pub decoding: Option<usize>,
    /// Largest answer sent, in bytes.
    pub encoding: Option<usize>,
}

/// Serves one unary call whose answer `handle` returns encoded: decodes the
/// request `U` from `request`, calls `handle`, frames its bytes (or its
/// status) as the generated server would.
pub fn unary<U, B, F, Fut>(
    request: http::Request<B>,
    limits: MessageLimits,
    handle: F,
) -> BoxFuture<http::Response<Body>, Infallible>
where
    U: prost::Message + Default + Send + 'static,
    B: HttpBody + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
    F: FnOnce(Request<U>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Response<Bytes>, Status>> + Send + 'static,
{
    Box::pin(async move {
        let mut grpc = tonic::server::Grpc::new(EncodedCodec::<U>::default())
            .apply_max_message_size_config(limits.decoding, limits.encoding);
        let mut handle = Some(handle);
        // `Grpc::unary` takes a service; this one is called once.
        let once = tower::service_fn(move |request: Request<U>| {
            let handle = handle.take();
            async move {
                match handle {
                    Some(handle) => handle(request).await,
                    None => Err(Status::internal("")),
                }
            }
        });
        Ok(grpc.unary(once, request).await)
    })
}
