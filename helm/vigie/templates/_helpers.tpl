{{/*
Names, labels and the per-role settings every template shares.
*/}}

{{- define "vigie.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "vigie.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Name of one role's objects: RELEASE-vigie-ROLE (at most 63 characters). */}}
{{- define "vigie.roleName" -}}
{{- printf "%s-%s" (include "vigie.fullname" .root) .role | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "vigie.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "vigie.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: vigie
{{- end -}}

{{/* Selector of one role's pods: stable across upgrades. */}}
{{- define "vigie.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vigie.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{- define "vigie.roleLabels" -}}
{{ include "vigie.labels" .root }}
app.kubernetes.io/component: {{ .role }}
{{- end -}}

{{- define "vigie.image" -}}
{{- $image := .Values.image -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $image.repository $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $image.repository (default .Chart.AppVersion $image.tag) -}}
{{- end -}}
{{- end -}}

{{/* The gRPC service name a role registers in grpc.health.v1 (crates/platform/src/grpc). */}}
{{- define "vigie.healthService" -}}
{{- $services := dict "inventory" "vigie.inventory.v1.InventoryService" "training" "vigie.training.v1.TrainingService" "facilitation" "vigie.facilitation.v1.FacilitationService" "alerting" "vigie.alerting.v1.AlertingService" "federation" "vigie.federation.v1.FederationService" -}}
{{- required (printf "no gRPC service known for role %s" .) (get $services .) -}}
{{- end -}}

{{/* Roles that pseudonymise erased people and so need the pseudonym secret (services/vigie/src/server/serve.rs). */}}
{{- define "vigie.needsPseudonym" -}}
{{- if has . (list "training" "facilitation" "alerting") }}true{{ end -}}
{{- end -}}

{{/* The gRPC server TLS Secret of a role (its own, or the shared one). */}}
{{- define "vigie.tlsSecret" -}}
{{- $role := get .root.Values.roles .role -}}
{{- default .root.Values.tls.existingSecret $role.tlsSecret -}}
{{- end -}}

{{/* The NATS credentials Secret of a role, {existingSecret, key}: its own when named, else the shared one. */}}
{{- define "vigie.natsCredentials" -}}
{{- $role := get .root.Values.roles .role -}}
{{- $own := default dict $role.natsCredentials -}}
{{- if $own.existingSecret -}}
{{- toYaml $own -}}
{{- else -}}
{{- toYaml .root.Values.nats.credentials -}}
{{- end -}}
{{- end -}}

{{/* The pod settings of a role: podDefaults overridden by the role's own. */}}
{{- define "vigie.pod" -}}
{{- $role := get .root.Values.roles .role -}}
{{- $own := pick $role "resources" "nodeSelector" "tolerations" "affinity" "podAnnotations" "podLabels" "priorityClassName" "terminationGracePeriodSeconds" -}}
{{- toYaml (mergeOverwrite (deepCopy .root.Values.podDefaults) (deepCopy $own)) -}}
{{- end -}}

{{/*
The arguments of a role's container. The federation role's national mode is
a flag of `vigie serve`, not a key of vigie.toml.
*/}}
{{- define "vigie.args" -}}
{{- $role := get .root.Values.roles .role -}}
{{- $args := list "serve" .role "--config" "/etc/vigie/vigie.toml" -}}
{{- if and (eq .role "federation") $role.national -}}
{{- $args = append $args "--national" -}}
{{- end -}}
{{- toJson $args -}}
{{- end -}}

{{/*
The federation link URL Secret (`federation-link` of the FEDERATION
account). The binary opens the link with that URL's user and password
only, never with the role's own credentials file or nkey.
*/}}
{{- define "vigie.federationLink" -}}
{{- $role := get .root.Values.roles .role -}}
{{- $link := default dict $role.linkNatsUrl -}}
{{- if and (eq .role "federation") $link.existingSecret -}}
{{- toYaml $link -}}
{{- end -}}
{{- end -}}
