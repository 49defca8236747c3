//! Connectors that fetch calls over the network (the parsing itself is pure, in the domain crate).
