"""Helm charts: the chart unit (``unit``) renders a chart offline (``render``: chart, values,
dependencies, staging, backends and the renderer pool in their own modules) and hands the
manifests, with the template line of each (``origin``), to the Kubernetes analyzer."""
