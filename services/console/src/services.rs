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

/// The services' channels: one for all (`vigie dev` serves them all on one
/// address), or one per service (`vigie serve console` in front of
/// separately deployed services).
#[derive(Clone, Debug)]
pub struct Services {
    inventory: Channel,
    alerting: Channel,
    training: Channel,
    facilitation: Channel,
}

/// One channel per service, for [`Services::per_service`].
#[derive(Clone, Debug)]
pub struct Channels {
    /// Inventory.
    pub inventory: Channel,
    /// Alerting.
    pub alerting: Channel,
    /// Training.
    pub training: Channel,
    /// Facilitation.
    pub facilitation: Channel,
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
        Services::per_service(Channels {
            inventory: channel.clone(),
            alerting: channel.clone(),
            training: channel.clone(),
            facilitation: channel,
        })
    }

    /// Each service over its own channel.
    pub fn per_service(channels: Channels) -> Self {
        Services {
            inventory: channels.inventory,
            alerting: channels.alerting,
            training: channels.training,
            facilitation: channels.facilitation,
        }
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
        let authed = |channel: &Channel| InterceptedService::new(channel.clone(), bearer.clone());
        Clients {
            inventory: InventoryServiceClient::new(authed(&self.inventory)),
            alerting: AlertingServiceClient::new(authed(&self.alerting)),
            training: TrainingServiceClient::new(authed(&self.training)),
            facilitation: FacilitationServiceClient::new(authed(&self.facilitation)),
        }
    }
}
