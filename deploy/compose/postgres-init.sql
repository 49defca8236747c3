-- One database per service (a service never reads another's tables), all
-- owned by the user of the compose file; Keycloak keeps its own.
CREATE DATABASE vigie_inventory;
CREATE DATABASE vigie_training;
CREATE DATABASE vigie_facilitation;
CREATE DATABASE vigie_alerting;
CREATE DATABASE vigie_federation;
CREATE DATABASE keycloak;
