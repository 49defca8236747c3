{{/* One egress rule: {to: [NetworkPolicyPeer], ports: [int]}, TCP (and UDP for DNS). */}}
{{- define "vigie.egressRule" -}}
- to:
    {{- toYaml .rule.to | nindent 4 }}
  ports:
    {{- range .rule.ports }}
    - port: {{ . }}
      protocol: TCP
    {{- if $.udp }}
    - port: {{ . }}
      protocol: UDP
    {{- end }}
    {{- end }}
{{- end -}}

{{/* One ingress rule on a named port; an empty peer list opens the port to anyone. */}}
{{- define "vigie.ingressRule" -}}
- ports:
    - port: {{ .port }}
      protocol: TCP
  {{- with .from }}
  from:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
