"""courtav recorder: segments remuxed from live streams (no transcode), the hearing index,
HLS playback, crash reconcile and integrity checks. Mount `routes.routes` and run `RecorderService`.
"""
