//! Helpers of the generated isolation tests that every service runs (feature
//! `testing`, enabled only in the services' dev-dependencies): the RPCs of a
//! service read from the descriptor set, scoped callers, requests carrying
//! a principal as `AuthLayer` inserts it, and an oracle for what a rule
//! should let a caller reach — written independently of [`super::authorize`]
//! so that the tests check the handlers against the matrix.

use anyhow::{bail, ensure, Context, Result};
use prost::Message;
use tonic::Request;

use super::{Principal, Reach, Role, Rule, Scope};

/// The methods of `service` (e.g. `vigie.inventory.v1.InventoryService`),
/// from the descriptor set the servers publish for reflection.
///
/// # Errors
/// When the descriptor set does not decode or lacks the service.
pub fn service_methods(service: &str) -> Result<Vec<String>> {
    let set = prost_types::FileDescriptorSet::decode(vigie_proto::FILE_DESCRIPTOR_SET)?;
    let (package, name) = service.rsplit_once('.').context("service name")?;
    let found = set
        .file
        .iter()
        .filter(|f| f.package() == package)
        .flat_map(|f| &f.service)
        .find(|s| s.name() == name)
        .context("service not in the descriptor set")?;
    Ok(found.method.iter().map(|m| m.name().to_owned()).collect())
}

/// Checks that `service` has at least `at_least` RPCs and that `rule` gives
/// each of them a rule (a new RPC without one fails here, not in production).
///
/// # Errors
/// Too few RPCs in the descriptor set, or an RPC without a rule.
pub fn every_rpc_has_a_rule(service: &str, at_least: usize, rule: impl Fn(&str) -> Option<Rule>) -> Result<()> {
    let methods = service_methods(service)?;
    ensure!(methods.len() >= at_least, "{methods:?}");
    for method in &methods {
        ensure!(
            rule(method).is_some(),
            "RPC {service}/{method} has no authorisation rule in grpc/authz.rs"
        );
    }
    Ok(())
}

/// One service's isolation matrix: its RPCs, as the descriptor set lists
/// them, and the rule its `grpc/authz.rs` gives each. An isolation suite
/// states it once (`const MATRIX: IsolationMatrix = …`) and asks it for the
/// methods to try and for what each caller should reach.
#[derive(Clone, Copy, Debug)]
pub struct IsolationMatrix {
    /// The gRPC service, e.g. `vigie.training.v1.TrainingService`.
    pub service: &'static str,
    /// The service's rule of an RPC (its `authz::rule`).
    pub rule: fn(&str) -> Option<Rule>,
}

impl IsolationMatrix {
    /// The service's RPCs (see [`service_methods`]).
    ///
    /// # Errors
    /// When the descriptor set does not decode or lacks the service.
    pub fn methods(&self) -> Result<Vec<String>> {
        service_methods(self.service)
    }

    /// Checks that the service has at least `at_least` RPCs, each with a
    /// rule (see [`every_rpc_has_a_rule`]).
    ///
    /// # Errors
    /// Too few RPCs in the descriptor set, or an RPC without a rule.
    pub fn every_rpc_has_a_rule(&self, at_least: usize) -> Result<()> {
        every_rpc_has_a_rule(self.service, at_least, self.rule)
    }

    /// What `principal` should reach under `method`'s rule on `network`
    /// (and `structure`): see [`expected`].
    ///
    /// # Errors
    /// When `method` has no rule.
    pub fn expected(
        &self,
        method: &str,
        principal: &Principal,
        network: &str,
        structure: Option<&str>,
    ) -> Result<Option<bool>> {
        let rule = (self.rule)(method).with_context(|| format!("no rule for {}/{method}", self.service))?;
        Ok(expected(&rule, principal, network, structure))
    }
}

/// A caller with one role and one scope.
pub fn caller(role: Role, scope: Scope) -> Principal {
    Principal {
        subject: format!("{role}-{scope}"),
        roles: [role].into_iter().collect(),
        scopes: vec![scope],
        client_id: None,
    }
}

/// The callers an isolation matrix tries, for every role in turn: one of
/// network `a`, one of network `b`, one of `sibling` (another structure of
/// `a`), and one whose structure group names `a_structure` under network
/// `b` — which must grant nothing on it.
pub fn matrix_callers(a: &str, b: &str, a_structure: &str, sibling: &str) -> Vec<Principal> {
    let structure = |network: &str, structure: &str| Scope::Structure {
        network: network.to_owned(),
        structure: structure.to_owned(),
    };
    Role::ALL
        .into_iter()
        .flat_map(|role| {
            [
                caller(role, Scope::Network(a.to_owned())),
                caller(role, Scope::Network(b.to_owned())),
                caller(role, structure(a, sibling)),
                caller(role, structure(b, a_structure)),
            ]
        })
        .collect()
}

/// Where an isolation matrix is tried, picked from a generated set's
/// structures (`(network, structure)`, in order): network `a` and its
/// structure `a_structure` are the first one's, `b` is another network, and
/// `sibling` another structure of `a` (a made-up id when `a` has only one).
/// The inventory's and the training's matrices pick them alike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixPlaces {
    /// Network `a`, whose objects are checked.
    pub a: String,
    /// The structure of `a` checked.
    pub a_structure: String,
    /// Another network.
    pub b: String,
    /// Another structure of `a`.
    pub sibling: String,
}

impl MatrixPlaces {
    /// Picks the places among `structures`.
    ///
    /// # Errors
    /// No structure, or all in one network.
    pub fn pick<'a>(structures: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<MatrixPlaces> {
        let structures: Vec<(&str, &str)> = structures.into_iter().collect();
        let &(a, a_structure) = structures.first().context("empty set")?;
        let b = structures
            .iter()
            .map(|(network, _)| *network)
            .find(|network| *network != a)
            .context("one network only")?;
        let sibling = structures
            .iter()
            .find(|(network, structure)| *network == a && *structure != a_structure)
            .map_or("another-structure", |(_, structure)| *structure);
        Ok(MatrixPlaces {
            a: a.to_owned(),
            a_structure: a_structure.to_owned(),
            b: b.to_owned(),
            sibling: sibling.to_owned(),
        })
    }

    /// The callers tried at these places ([`matrix_callers`]).
    pub fn callers(&self) -> Vec<Principal> {
        matrix_callers(&self.a, &self.b, &self.a_structure, &self.sibling)
    }
}

/// A request carrying `principal` in its extensions.
pub fn request<T>(principal: &Principal, message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.extensions_mut().insert(principal.clone());
    request
}

/// Whether `principal` should reach `structure` of `network` (the whole
/// network when `None`) under `rule`; `None` when no role of theirs is granted.
pub fn expected(rule: &Rule, principal: &Principal, network: &str, structure: Option<&str>) -> Option<bool> {
    let reach = principal.roles.iter().filter_map(|r| rule.reach_of(*r)).max()?;
    Some(principal.scopes.iter().any(|scope| match (reach, scope) {
        (Reach::Instance, _) => true,
        (Reach::Network, scope) => scope.network() == network,
        (Reach::Structure, Scope::Network(n)) => n == network,
        (
            Reach::Structure,
            Scope::Structure {
                network: n,
                structure: s,
            },
        ) => n == network && structure == Some(s.as_str()),
    }))
}

/// A refused call: `PERMISSION_DENIED` for a role not granted, otherwise
/// exactly the answer for a missing object (whose id was `absent-object`).
///
/// # Errors
/// When the outcome leaks more than a missing object would.
pub fn refused<T: std::fmt::Debug>(
    granted: bool,
    outcome: &Result<T, tonic::Status>,
    missing: &Result<T, tonic::Status>,
    id: &str,
) -> Result<()> {
    let Err(status) = outcome else {
        bail!("answered {outcome:?}");
    };
    if !granted {
        ensure!(status.code() == tonic::Code::PermissionDenied, "{status:?}");
        return Ok(());
    }
    let Err(absent) = missing else {
        bail!("a missing object answered {missing:?}");
    };
    ensure!(
        status.code() == tonic::Code::NotFound
            && absent.code() == tonic::Code::NotFound
            && status.message() == absent.message().replace("absent-object", id),
        "out of scope {status:?} differs from missing {absent:?}"
    );
    Ok(())
}

/// An allowed call may fail for business reasons (already enrolled…), never
/// for authorisation.
///
/// # Errors
/// When it was refused as unauthorised or out of scope.
pub fn allowed<T: std::fmt::Debug>(outcome: &Result<T, tonic::Status>) -> Result<()> {
    if let Err(status) = outcome {
        ensure!(
            !matches!(status.code(), tonic::Code::PermissionDenied | tonic::Code::NotFound),
            "{status:?}"
        );
    }
    Ok(())
}
