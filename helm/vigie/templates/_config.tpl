{{/*
The vigie.toml of one role (services/vigie/src/config.rs): the shared
`config`, the role's own `config` over it, then the keys the chart owns
(addresses, NATS, OIDC, TLS files). Secrets are not here: they reach the
process as VIGIE_* variables from Secrets (deployment.yaml).
*/}}
{{- define "vigie.config" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $role := get $v.roles .role -}}
{{- $config := mergeOverwrite (deepCopy $v.config) (deepCopy (default dict $role.config)) -}}
{{- $_ := set $config "listen" (printf "0.0.0.0:%d" (int $v.ports.grpc)) -}}
{{- $_ := set $config "nats_url" $v.nats.url -}}
{{- $creds := fromYaml (include "vigie.natsCredentials" .) -}}
{{- if $creds.existingSecret -}}
{{- $_ := set $config "nats_creds" "/etc/vigie/nats/credentials/nats.creds" -}}
{{- else if $v.nats.nkey.existingSecret -}}
{{- $_ := set $config "nats_nkey" "/etc/vigie/nats/nkey/nkey.seed" -}}
{{- end -}}
{{- if $v.nats.tls.caSecret -}}
{{- $_ := set $config "nats_tls_ca" "/etc/vigie/nats/ca/ca.crt" -}}
{{- end -}}
{{- if $v.nats.tls.clientCertSecret -}}
{{- $_ := set $config "nats_tls_cert" "/etc/vigie/nats/client/tls.crt" -}}
{{- $_ := set $config "nats_tls_key" "/etc/vigie/nats/client/tls.key" -}}
{{- end -}}
{{- if $v.nats.tls.require -}}
{{- $_ := set $config "nats_require_tls" true -}}
{{- end -}}
{{- $_ := set $config "auth" $v.auth.mode -}}
{{- if eq $v.auth.mode "oidc" -}}
{{- $_ := set $config "oidc_issuer" (required "auth.oidcIssuer is required with auth.mode oidc" $v.auth.oidcIssuer) -}}
{{- $_ := set $config "oidc_audience" (required "auth.oidcAudience is required with auth.mode oidc" $v.auth.oidcAudience) -}}
{{- end -}}
{{- if include "vigie.tlsSecret" . -}}
{{- $_ := set $config "tls_cert" "/etc/vigie/tls/server/tls.crt" -}}
{{- $_ := set $config "tls_key" "/etc/vigie/tls/server/tls.key" -}}
{{- end -}}
{{- if $v.tls.clientCaSecret -}}
{{- $_ := set $config "tls_client_ca" "/etc/vigie/tls/clients/ca.crt" -}}
{{- end -}}
{{- if $v.metrics.enabled -}}
{{- $_ := set $config "metrics_listen" (printf "0.0.0.0:%d" (int $v.metrics.port)) -}}
{{- end -}}
{{- if eq .role "alerting" -}}
{{- $alerting := default dict $config.alerting -}}
{{- $_ := set $alerting "http_listen" (printf "0.0.0.0:%d" (int $v.ports.alertingHttp)) -}}
{{- if $role.smtpCaSecret -}}
{{- $smtp := default dict $alerting.smtp -}}
{{- $_ := set $smtp "ca_cert" "/etc/vigie/smtp/ca.crt" -}}
{{- $_ := set $alerting "smtp" $smtp -}}
{{- end -}}
{{- $_ := set $config "alerting" $alerting -}}
{{- else -}}
{{- $_ := unset $config "alerting" -}}
{{- end -}}
{{- if ne .role "federation" -}}
{{- $_ := unset $config "federation" -}}
{{- end -}}
{{- toYaml $config -}}
{{- end -}}
