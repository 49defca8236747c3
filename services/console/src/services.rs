//! The console's gRPC clients. Every call made for a person carries *her*
//! access token (`authorization: Bearer …`): authorisation stays in the
//! services, so the console shows exactly what the API lets her see. Only
//! the dev sign-in page lists profiles without a token, as the `vigie dev`
//! identity.

use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::service::Interceptor;
use tonic::transport::Channel;
use vigie_proto::alerting::v1::alerting_service_client::AlertingServiceClient;
use vigie_proto::facilitation::v1::facilitation_service_client::FacilitationServiceClient;
use vigie_proto::inventory::v1::inventory_service_client::InventoryServiceClient;
use vigie_proto::training::v1::training_service_client::TrainingServiceClient;

use crate::error::PageError;

/// A channel that authenticates every call with one person's token.
pub type Authed = InterceptedService<Channel, Bearer>;

/// Adds `authorization: Bearer <token>` (nothing for the dev identity).
#[derive(Clone)]
pub struct Bearer(Option<MetadataValue<Ascii>>);

impl Interceptor for Bearer {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request.metadata_mut().insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// The services, reached through one channel (`vigie dev` serves them all
/// on one address).
#[derive(Clone, Debug)]
pub struct Services {
    channel: Channel,
}

/// The clients of the four services for one caller.
pub struct Clients {
    /// Inventory and fragility.
    pub inventory: InventoryServiceClient<Authed>,
    /// Project calls, deadlines, calendar feeds.
    pub alerting: AlertingServiceClient<Authed>,
    /// Training plans.
    pub training: TrainingServiceClient<Authed>,
    /// Help requests and facilitators.
    pub facilitation: FacilitationServiceClient<Authed>,
}

impl Services {
    /// Clients over `channel` (lazy: nothing connects before the first call).
    pub fn new(channel: Channel) -> Self {
        Services { channel }
    }

    /// The clients for the person whose access token is `token`.
    ///
    /// # Errors
    /// A token that cannot travel in a header (not visible ASCII).
    pub fn for_token(&self, token: &str) -> Result<Clients, PageError> {
        let mut value: MetadataValue<Ascii> = format!("Bearer {token}").parse().map_err(|_| PageError::SignedOut)?;
        value.set_sensitive(true);
        Ok(self.clients(Bearer(Some(value))))
    }

    /// The clients of the `vigie dev` identity (no token): only for listing
    /// the demo profiles on the dev sign-in page.
    pub fn dev_identity(&self) -> Clients {
        self.clients(Bearer(None))
    }

    fn clients(&self, bearer: Bearer) -> Clients {
        let channel = || InterceptedService::new(self.channel.clone(), bearer.clone());
        Clients {
            inventory: InventoryServiceClient::new(channel()),
            alerting: AlertingServiceClient::new(channel()),
            training: TrainingServiceClient::new(channel()),
            facilitation: FacilitationServiceClient::new(channel()),
        }
    }
}
