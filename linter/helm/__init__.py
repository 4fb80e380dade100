"""Helm charts: rendering (``render``), template origins (``origin``) and the chart unit
(``unit``), whose manifests go to the Kubernetes analyzer."""
