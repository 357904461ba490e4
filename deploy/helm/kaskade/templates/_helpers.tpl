{{/* Names and labels. */}}
{{- define "kaskade.fullname" -}}
{{- if contains "kaskade" .Release.Name -}}{{ .Release.Name | trunc 40 | trimSuffix "-" }}{{- else -}}{{ printf "%s-kaskade" .Release.Name | trunc 40 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "kaskade.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/name: kaskade
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kaskade
{{- range $k, $v := .Values.commonLabels }}
{{ $k }}: {{ $v | quote }}
{{- end }}
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "edge" "region" "eu"). */}}
{{- define "kaskade.selectorLabels" -}}
app.kubernetes.io/name: kaskade
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- if .region }}
kaskade.io/region: {{ .region }}
{{- end }}
{{- end -}}

{{- define "kaskade.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "kaskade.operatorSecret" -}}
{{- .Values.secrets.operator.existingSecret | default (printf "%s-operator" (include "kaskade.fullname" .)) -}}
{{- end -}}

{{/* The drain deadline in whole seconds, rounded up, from KASKADE_SHUTDOWN_TIMEOUT_MS. */}}
{{- define "kaskade.drainSeconds" -}}
{{- div (add (int .) 999) 1000 -}}
{{- end -}}

{{/* terminationGracePeriodSeconds: preStop + drain + margin, so the kubelet never kills a draining node. */}}
{{- define "kaskade.gracePeriod" -}}
{{- add (int .root.Values.preStopSeconds) (include "kaskade.drainSeconds" .shutdownTimeoutMs | int) (int .root.Values.terminationMarginSeconds) -}}
{{- end -}}

{{/* Env of every pod: identity and place in Kubernetes (contract names). */}}
{{- define "kaskade.identityEnv" -}}
- name: KASKADE_NODE_ID
  valueFrom: { fieldRef: { fieldPath: metadata.name } }
- name: KASKADE_K8S_NAMESPACE
  valueFrom: { fieldRef: { fieldPath: metadata.namespace } }
- name: KASKADE_K8S_NODE_NAME
  valueFrom: { fieldRef: { fieldPath: spec.nodeName } }
- name: KASKADE_K8S_HOST_IP
  valueFrom: { fieldRef: { fieldPath: status.hostIP } }
- name: KASKADE_REGION
  value: {{ .region | quote }}
- name: KASKADE_OPERATOR_HOST
  value: "0.0.0.0"
- name: KASKADE_OPERATOR_PORT
  value: {{ .operatorPort | quote }}
- name: KASKADE_OPERATOR_TOKEN
  valueFrom: { secretKeyRef: { name: {{ include "kaskade.operatorSecret" .root }}, key: {{ .root.Values.secrets.operator.operatorTokenKey }} } }
{{- end -}}

{{/* Whether pods get bus users of their own from the control plane's issuer (nats.auth.mode). */}}
{{- define "kaskade.busIssuer" -}}
{{- if eq .Values.nats.auth.mode "issuer" }}true{{ end -}}
{{- end -}}

{{/* The ServiceAccount of one media kind: (dict "root" $ "kind" "edge"). The issuer tells the kinds apart by it. */}}
{{- define "kaskade.serviceAccount" -}}
{{- $sa := .root.Values.serviceAccounts -}}
{{- $edge := $sa.edge | default (printf "%s-edge" (include "kaskade.fullname" .root)) -}}
{{- $relay := $sa.relay | default (printf "%s-relay" (include "kaskade.fullname" .root)) -}}
{{- if eq $edge $relay }}{{ fail "serviceAccounts: the edges and the relays need ServiceAccounts of their own" }}{{ end -}}
{{- ternary $edge $relay (eq .kind "edge") -}}
{{- end -}}

{{/*
The init container writing the pod's bus credentials (/tmp/bus/nats.creds) and its native
sidecar (restartPolicy Always) renewing them: (dict "root" $ "args" (list ...) "mount" {name, mountPath}),
args saying where they come from (deploy/image/bus-credentials.ts).
*/}}
{{- define "kaskade.busCredentialContainers" -}}
{{- range $renew := list false true }}
- name: bus-credentials{{ if $renew }}-renew{{ end }}
  image: {{ include "kaskade.image" $.root }}
  imagePullPolicy: {{ $.root.Values.image.pullPolicy }}
  {{- if $renew }}
  restartPolicy: Always
  {{- end }}
  command: {{ concat (list "node" "/app/deploy/image/bus-credentials.ts") $.args (list "--out" "/tmp/bus/nats.creds") (ternary (list "--renew") (list) $renew) | toJson }}
  securityContext:
    {{- toYaml $.root.Values.containerSecurityContext | nindent 4 }}
  env:
    - name: KASKADE_NODE_ID
      valueFrom: { fieldRef: { fieldPath: metadata.name } }
  resources:
    requests: { cpu: 10m, memory: 64Mi }
    limits: { memory: 128Mi }
  volumeMounts:
    - { name: tmp, mountPath: /tmp }
    - { name: bus, mountPath: /tmp/bus }
    - {{ toJson $.mount }}
{{- end }}
{{- end -}}

{{/* NATS env of one kind: (dict "root" $ "credentials" {existingSecret, type}). */}}
{{- define "kaskade.natsEnv" -}}
{{- $n := .root.Values.nats -}}
- name: KASKADE_NATS_URL
  value: {{ tpl $n.url .root | quote }}
{{- if or $n.ca.secret $n.ca.configMap }}
- name: KASKADE_NATS_CA_FILE
  value: /etc/kaskade/nats-ca/{{ $n.ca.key }}
{{- end }}
{{- if $n.insecure }}
- name: KASKADE_NATS_INSECURE
  value: "true"
{{- end }}
{{- if include "kaskade.busIssuer" .root }}
- name: KASKADE_NATS_CREDS_FILE
  value: /tmp/bus/nats.creds
{{- else if .credentials.existingSecret }}
{{- with .credentials }}
{{- if eq .type "password" }}
- name: KASKADE_NATS_USER
  valueFrom: { secretKeyRef: { name: {{ .existingSecret }}, key: user } }
- name: KASKADE_NATS_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ .existingSecret }}, key: password } }
{{- else if eq .type "creds" }}
- name: KASKADE_NATS_CREDS_FILE
  value: /etc/kaskade/nats/nats.creds
{{- else }}
- name: KASKADE_NATS_CERT_FILE
  value: /etc/kaskade/nats/tls.crt
- name: KASKADE_NATS_KEY_FILE
  value: /etc/kaskade/nats/tls.key
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "kaskade.redisEnv" -}}
{{- $r := .Values.redis -}}
- name: KASKADE_REDIS_URL
{{- if $r.urlSecret.name }}
  valueFrom: { secretKeyRef: { name: {{ $r.urlSecret.name }}, key: {{ $r.urlSecret.key }} } }
{{- else }}
  value: {{ tpl $r.url . | quote }}
{{- end }}
{{- if or $r.ca.secret $r.ca.configMap }}
- name: KASKADE_REDIS_CA_FILE
  value: /etc/kaskade/redis-ca/{{ $r.ca.key }}
{{- end }}
{{- end -}}

{{/* Extra KASKADE_* options, name: value. */}}
{{- define "kaskade.extraEnv" -}}
{{- range $k, $v := . }}
- name: {{ $k }}
  value: {{ $v | toString | quote }}
{{- end }}
{{- end -}}

{{/* Mounts and volumes for /tmp, the NATS and Redis CAs and the NATS credential: (dict "root" $ "credentials" ...). */}}
{{- define "kaskade.mounts" -}}
- name: tmp
  mountPath: /tmp
{{- $n := .root.Values.nats }}
{{- if or $n.ca.secret $n.ca.configMap }}
- name: nats-ca
  mountPath: /etc/kaskade/nats-ca
  readOnly: true
{{- end }}
{{- if include "kaskade.busIssuer" .root }}
- name: bus
  mountPath: /tmp/bus
  readOnly: true
{{- else if and .credentials.existingSecret (ne .credentials.type "password") }}
- name: nats-credentials
  mountPath: /etc/kaskade/nats
  readOnly: true
{{- end }}
{{- $r := .root.Values.redis }}
{{- if or $r.ca.secret $r.ca.configMap }}
- name: redis-ca
  mountPath: /etc/kaskade/redis-ca
  readOnly: true
{{- end }}
{{- end -}}

{{- define "kaskade.caVolume" -}}
- name: {{ .name }}
{{- if .ca.secret }}
  secret: { secretName: {{ .ca.secret }}, items: [{ key: {{ .ca.key }}, path: {{ .ca.key }} }] }
{{- else }}
  configMap: { name: {{ .ca.configMap }}, items: [{ key: {{ .ca.key }}, path: {{ .ca.key }} }] }
{{- end }}
{{- end -}}

{{- define "kaskade.volumes" -}}
- name: tmp
  emptyDir: { sizeLimit: 256Mi }
{{- $n := .root.Values.nats }}
{{- if or $n.ca.secret $n.ca.configMap }}
{{ include "kaskade.caVolume" (dict "name" "nats-ca" "ca" $n.ca) }}
{{- end }}
{{- if include "kaskade.busIssuer" .root }}
- name: bus
  emptyDir: { medium: Memory, sizeLimit: 1Mi }
{{- else if and .credentials.existingSecret (ne .credentials.type "password") }}
- name: nats-credentials
  secret: { secretName: {{ .credentials.existingSecret }}, defaultMode: 0400 }
{{- end }}
{{- $r := .root.Values.redis }}
{{- if or $r.ca.secret $r.ca.configMap }}
{{ include "kaskade.caVolume" (dict "name" "redis-ca" "ca" $r.ca) }}
{{- end }}
{{- end -}}

{{- define "kaskade.probes" -}}
startupProbe:
  httpGet: { path: /livez, port: http }
  periodSeconds: 2
  failureThreshold: 60
livenessProbe:
  httpGet: { path: /livez, port: http }
  periodSeconds: 10
  failureThreshold: 3
readinessProbe:
  httpGet: { path: /readyz, port: http }
  periodSeconds: 5
  failureThreshold: 2
lifecycle:
  preStop:
    exec: { command: ["sleep", {{ .Values.preStopSeconds | quote }}] }
{{- end -}}

{{/* Topology spread of one component's pods. */}}
{{- define "kaskade.topologySpread" -}}
{{- $t := .root.Values.topologySpread -}}
{{- if $t.enabled }}
topologySpreadConstraints:
{{- range $c := list $t.zone $t.host }}
  - topologyKey: {{ $c.topologyKey }}
    maxSkew: {{ $c.maxSkew }}
    whenUnsatisfiable: {{ if $.soft }}ScheduleAnyway{{ else }}{{ $c.whenUnsatisfiable }}{{ end }}
    labelSelector:
      matchLabels:
        {{- include "kaskade.selectorLabels" $ | nindent 8 }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Deployment strategy: a new pod is ready before an old one drains. */}}
{{- define "kaskade.strategy" -}}
strategy:
  type: RollingUpdate
  rollingUpdate: { maxUnavailable: 0, maxSurge: 1 }
{{- end -}}

{{/*
The media Deployments: one entry per region and kind, with the kind's defaults merged
under the region's own values. Used by media.yaml, pdb.yaml, autoscaling.yaml.
Returns YAML: a list of {region, kind, name, v}.
*/}}
{{- define "kaskade.mediaSets" -}}
{{- $sets := list -}}
{{- $seen := dict -}}
{{- range $r := .Values.regions -}}
{{- if hasKey $seen $r.name }}{{ fail (printf "regions: %s is listed twice" $r.name) }}{{ end -}}
{{- $_ := set $seen $r.name true -}}
{{- range $kind := list "edges" "relays" }}{{ with (index $r $kind) }}{{ if and (hasKey . "min") (hasKey . "max") (gt (int .min) (int .max)) }}{{ fail (printf "regions[%s].%s: min %d is above max %d" $r.name $kind (int .min) (int .max)) }}{{ end }}{{ end }}{{ end -}}
{{- $edges := merge (deepCopy ($r.edges | default dict)) (deepCopy $.Values.edges) -}}
{{- $sets = append $sets (dict "region" $r.name "kind" "edge" "name" (printf "%s-edge-%s" (include "kaskade.fullname" $) $r.name) "v" $edges) -}}
{{- $relays := $r.relays | default dict -}}
{{- if $relays.enabled -}}
{{- $sets = append $sets (dict "region" $r.name "kind" "relay" "name" (printf "%s-relay-%s" (include "kaskade.fullname" $) $r.name) "v" (merge (deepCopy $relays) (deepCopy $.Values.relays))) -}}
{{- end -}}
{{- end -}}
{{- toYaml (dict "sets" $sets) -}}
{{- end -}}

{{/* Whether media pods read their public address from their Node (init container, ClusterRole get nodes). */}}
{{- define "kaskade.addressFromNode" -}}
{{- if ne .Values.media.announcedAddress.from "hostIP" }}true{{ end -}}
{{- end -}}
