"""Every use of aiortc/aioice internals, in one place, pinned to aiortc 1.16.

aiortc has no public API to receive or send encoded frames without its codecs; these hooks
provide it. `self_test()` runs at server start and fails loudly if aiortc changed.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import queue
import random
import struct
import time
from collections.abc import Callable, Sequence
from typing import Any

import aioice
import aioice.ice
import aiortc
import pylibsrtp
from aioice.candidate import candidate_foundation, candidate_priority
from aiortc import rtcrtpreceiver
from aiortc.codecs.h264 import H264Encoder
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtpreceiver import RTCRtpReceiver
from aiortc.rtcrtpsender import RTCRtpSender
from aiortc.rtp import (
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    RtcpPsfbPacket,
    RtcpRtpfbPacket,
    RtpPacket,
)
from pylibsrtp._binding import ffi as srtp_ffi
from pylibsrtp._binding import lib as srtp_lib

logger = logging.getLogger(__name__)

SUPPORTED_AIORTC = "1.16."
HISTORY_SIZE = 512  # packets kept per output for NACK retransmission (~3 s at 1.5 Mbit/s)
_HISTORY_MASK = HISTORY_SIZE - 1
_HEADER = struct.Struct("!BBHII")
_NTP_OFFSET = 2208988800  # seconds from 1900 (NTP) to 1970 (Unix)

_original_decoder_worker = rtcrtpreceiver.decoder_worker
_original_get_host_addresses = aioice.ice.get_host_addresses
_background: set[asyncio.Future[Any]] = set()


class AiortcIncompatible(RuntimeError):
    """The installed aiortc/aioice no longer has the internals these hooks rely on."""


# --- ICE -------------------------------------------------------------------------------


def set_ice_hosts(hosts: Sequence[str] | None) -> None:
    """Advertise exactly `hosts` as ICE host candidates (None: the machine's interfaces).

    aioice skips 127.0.0.1 on its own, so loopback-only tests need this.
    """
    if hosts is None:
        aioice.ice.get_host_addresses = _original_get_host_addresses
        return
    fixed = list(hosts)

    def get_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return [h for h in fixed if (":" in h and use_ipv6) or (":" not in h and use_ipv4)]

    aioice.ice.get_host_addresses = get_host_addresses


_original_get_component_candidates = aioice.ice.Connection.get_component_candidates


def set_udp_port_range(port_min: int | None, port_max: int | None) -> None:
    """Bind ICE host candidates to ports in [port_min, port_max] (None: ephemeral ports)."""
    if port_min is None or port_max is None:
        aioice.ice.Connection.get_component_candidates = _original_get_component_candidates  # type: ignore[method-assign]
        return
    if not 0 < port_min <= port_max < 65536:
        raise ValueError(f"bad UDP port range {port_min}-{port_max}")

    async def get_component_candidates(
        self: aioice.ice.Connection,
        component: int,
        addresses: list[str],
        timeout: int = 5,  # noqa: ASYNC109 (aioice's signature)
    ) -> list[aioice.Candidate]:
        loop = asyncio.get_running_loop()
        candidates = []
        for address in addresses:
            span = port_max - port_min + 1
            first = random.randrange(span)
            for step in range(span):  # bounded: each port of the range at most once
                port = port_min + (first + step) % span
                try:
                    transport, protocol = await loop.create_datagram_endpoint(
                        lambda: aioice.ice.StunProtocol(self), local_addr=(address, port)
                    )
                except OSError:
                    continue
                host, bound_port = transport.get_extra_info("sockname")[:2]
                protocol.local_candidate = aioice.Candidate(
                    foundation=candidate_foundation("host", "udp", host),
                    component=component,
                    transport="udp",
                    priority=candidate_priority(component, "host"),
                    host=host,
                    port=bound_port,
                    type="host",
                )
                candidates.append(protocol.local_candidate)
                self._protocols.append(protocol)
                break
        # STUN/TURN candidates (if any) come from aioice itself.
        return candidates + await _original_get_component_candidates(self, component, [], timeout)

    aioice.ice.Connection.get_component_candidates = get_component_candidates  # type: ignore[method-assign]


# --- receiving encoded frames ------------------------------------------------------------


class _EncodedFrameQueue(queue.Queue[Any]):
    """Stands in for a receiver's decoder queue: complete frames go straight to a callback.

    put() is called on the event loop by RTCRtpReceiver._handle_rtp_packet, so no thread hop.
    """

    def __init__(self, on_frame: Callable[[bytes, int], None], on_end: Callable[[], None]):
        super().__init__()
        self._on_frame = on_frame
        self._on_end = on_end

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is None:
            self._on_end()
            return
        _codec, encoded_frame = item
        try:
            self._on_frame(encoded_frame.data, encoded_frame.timestamp)
        except Exception:  # never break aiortc's receive loop
            logger.exception("encoded frame handler failed")


def _decoder_worker(
    loop: asyncio.AbstractEventLoop, input_q: Any, output_q: Any, decode_error: Any
) -> None:
    # Our receivers never decode: their worker thread has nothing to do.
    if isinstance(input_q, _EncodedFrameQueue):
        return
    _original_decoder_worker(loop, input_q, output_q, decode_error)


def receive_encoded(
    receiver: RTCRtpReceiver,
    on_frame: Callable[[bytes, int], None],
    on_end: Callable[[], None] = lambda: None,
) -> None:
    """Hand this receiver's reassembled frames (data, timestamp from 0 in codec clock) to
    `on_frame` instead of decoding them. Call before the receiver starts (before connect)."""
    rtcrtpreceiver.decoder_worker = _decoder_worker
    receiver._RTCRtpReceiver__decoder_queue = _EncodedFrameQueue(on_frame, on_end)  # type: ignore[attr-defined]


def send_pli(receiver: RTCRtpReceiver) -> None:
    """Ask the remote sender of this receiver's media for a keyframe (RTCP PLI)."""
    for source in receiver.getSynchronizationSources():
        _spawn(receiver._send_rtcp_pli(source.source))


def _private(sender: RTCRtpSender, name: str) -> Any:
    return getattr(sender, "_RTCRtpSender__" + name)


def _spawn(coro: Any) -> None:
    task = asyncio.ensure_future(coro)
    _background.add(task)
    task.add_done_callback(_background.discard)


# --- sending pre-packetised frames -------------------------------------------------------


def packetize_h264(annexb: bytes) -> list[bytes]:
    """RTP payloads (RFC 6184, STAP-A/FU-A) of one Annex-B access unit."""
    return H264Encoder._packetize(H264Encoder._split_bitstream(annexb))


def packetize_vp8(frame: bytes, picture_id: int) -> list[bytes]:
    """RTP payloads (RFC 7741) of one VP8 frame."""
    return Vp8Encoder._packetize(frame, picture_id)


class _SrtpProtect:
    """SRTP protect on pylibsrtp's own session, minus its per-call checks and allocations
    (about half of its cost per packet)."""

    def __init__(self, session: Any) -> None:
        self._ctx = session._srtp[0]
        self._cdata = session._cdata
        self._buffer = session._buffer
        self._len = srtp_ffi.new("int *")
        self._capacity = len(self._buffer) - 16  # room for the SRTP auth tag
        self._protect = srtp_lib.srtp_protect

    def __call__(self, data: bytes) -> bytes:
        n = len(data)
        if n > self._capacity:
            raise ValueError("packet is too long")
        self._buffer[0:n] = data
        self._len[0] = n
        if self._protect(self._ctx, self._cdata, self._len):
            raise ConnectionError("SRTP protect failed")
        return self._buffer[0 : self._len[0]]


class RtpOutput:
    """One viewer's outgoing RTP stream for one track: headers, SRTP and UDP send, per packet.

    Payloads are shared by all viewers; only seq/timestamp/ssrc are per output.
    """

    def __init__(self, sender: RTCRtpSender, codec: RTCRtpCodecParameters) -> None:
        self.sender = sender
        self.ssrc = sender._ssrc
        self.payload_type: int = codec.payloadType or 0
        self.clock_rate = codec.clockRate
        self.codec_name = codec.name
        self.seq = random.randint(0, 32767)  # lower half: avoids early SRTP rollover issues
        self.packets = 0
        self.octets = 0
        self.dropped = 0
        self.closed = False
        self._dtls = sender.transport
        self._sender_state = vars(sender)
        template = RtpPacket(payload_type=self.payload_type, ssrc=self.ssrc)
        template.extensions.mid = _private(sender, "mid")
        raw = template.serialize(_private(sender, "rtp_header_extensions_map"))
        # Fixed header fields and the (constant) mid extension, packed in one call per packet.
        self._b0 = raw[0]
        self._head = struct.Struct(f"!BBHII{len(raw) - 12}s")
        self._ext = raw[12:]
        # Sent packets by seq % HISTORY_SIZE, for NACK; the seq is read back from the header.
        self._history: list[bytes] = [b""] * HISTORY_SIZE
        self._pair: object = None
        self._protect: Callable[[bytes], bytes] | None = None
        self._sendto: Callable[[bytes, Any], Any] | None = None
        self._addr: Any = None

    def _resolve(self) -> bool:
        """Bind the cheapest send path: SRTP protect + sendto on the nominated UDP pair's socket."""
        dtls = self._dtls
        if dtls.state != "connected":
            return False
        pair = dtls.transport._connection._nominated.get(1)
        if pair is None:
            return False
        self._pair = pair
        self._protect = _SrtpProtect(dtls._tx_srtp)
        protocol = pair.protocol
        sock = getattr(getattr(protocol, "transport", None), "_sock", None)
        if type(protocol) is aioice.ice.StunProtocol and sock is not None:
            self._sendto = sock.sendto
            self._addr = pair.remote_addr
        else:  # TURN relay: its send path is a coroutine
            self._sendto = None
        return True

    def send_frame(self, payloads: list[bytes], timestamp: int) -> bool:
        """Send one frame's payloads with RTP `timestamp`; False once the transport is gone."""
        nominated = self._dtls.transport._connection._nominated
        if self._protect is None or nominated.get(1) is not self._pair:
            if not self._resolve():
                return not self.closed and self._dtls.state in ("new", "connecting")
        protect = self._protect
        sendto = self._sendto
        assert protect is not None
        addr = self._addr
        pack = self._head.pack
        b0, pt, ssrc, ext = self._b0, self.payload_type, self.ssrc, self._ext
        history = self._history
        seq = self.seq
        last = len(payloads) - 1
        try:
            for i, payload in enumerate(payloads):
                # Marker bit on a frame's last packet.
                data = pack(b0, pt | 0x80 if i == last else pt, seq, timestamp, ssrc, ext) + payload
                history[seq & _HISTORY_MASK] = data
                seq = (seq + 1) & 0xFFFF
                if sendto is None:
                    _spawn(self._dtls._send_rtp(data))
                    continue
                try:
                    sendto(protect(data), addr)
                except (BlockingIOError, InterruptedError):
                    self.dropped += 1  # socket buffer full: UDP would lose it anyway
        except (ConnectionError, OSError, ValueError):
            self.closed = True
            return False
        finally:
            self.seq = seq
        self.octets += sum(map(len, payloads))
        self.packets += len(payloads)
        # aiortc's RTCP task builds sender reports from these; receivers need them for A/V sync.
        state = self._sender_state
        state["_RTCRtpSender__ntp_timestamp"] = int((time.time() + _NTP_OFFSET) * 4294967296)
        state["_RTCRtpSender__rtp_timestamp"] = timestamp
        state["_RTCRtpSender__packet_count"] = self.packets & 0xFFFFFFFF
        state["_RTCRtpSender__octet_count"] = self.octets & 0xFFFFFFFF
        return True

    def retransmit(self, lost: Sequence[int]) -> None:
        """Resend packets a receiver reported lost (NACK), if still in history."""
        protect, sendto = self._protect, self._sendto
        if protect is None or sendto is None:
            return
        for seq in lost:
            data = self._history[seq & _HISTORY_MASK]
            if len(data) > 12 and int.from_bytes(data[2:4], "big") == seq:
                try:
                    sendto(protect(data), self._addr)
                except (OSError, ValueError, ConnectionError):
                    return


def send_encoded(
    sender: RTCRtpSender,
    on_ready: Callable[[RtpOutput], None],
    on_keyframe_request: Callable[[], None],
) -> None:
    """Replace the sender's encode loop: once connected, `on_ready` gets an RtpOutput to push
    pre-built payloads through. PLI/FIR from the viewer go to `on_keyframe_request`."""
    started: asyncio.Event = _private(sender, "rtp_started")
    exited: asyncio.Event = _private(sender, "rtp_exited")
    original_rtcp = sender._handle_rtcp_packet
    holder: list[RtpOutput] = []

    async def run_rtp(codec: RTCRtpCodecParameters) -> None:
        started.set()
        output = RtpOutput(sender, codec)
        holder.append(output)
        try:
            on_ready(output)
            await asyncio.get_running_loop().create_future()
        except asyncio.CancelledError:
            pass
        finally:
            output.closed = True
            exited.set()

    async def handle_rtcp(packet: Any) -> None:
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt in (RTCP_PSFB_PLI, RTCP_PSFB_FIR):
            on_keyframe_request()
        elif isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
            if holder:
                holder[0].retransmit(packet.lost)
        else:
            await original_rtcp(packet)

    sender._run_rtp = run_rtp  # type: ignore[method-assign]
    sender._handle_rtcp_packet = handle_rtcp  # type: ignore[method-assign]


# --- self-test ---------------------------------------------------------------------------


def self_test() -> None:
    """Check that aiortc/aioice still have every internal used above; raise if not."""
    problems: list[str] = []
    if not aiortc.__version__.startswith(SUPPORTED_AIORTC):
        problems.append(f"aiortc {aiortc.__version__} (hooks are written for {SUPPORTED_AIORTC}x)")
    params = list(inspect.signature(_original_decoder_worker).parameters)
    if params != ["loop", "input_q", "output_q", "decode_error"]:
        problems.append(f"decoder_worker signature is {params}")
    receive_src = inspect.getsource(RTCRtpReceiver)
    for needle in ("target=decoder_worker", "self.__decoder_queue.put((codec, encoded_frame))"):
        if needle not in receive_src:
            problems.append(f"RTCRtpReceiver no longer contains {needle!r}")
    sender_src = inspect.getsource(RTCRtpSender)
    for needle in (
        "self._run_rtp(parameters.codecs[0])",
        "self.__rtp_started",
        "self.__rtp_exited",
        "self.__rtp_header_extensions_map",
        "self.__mid",
        "rtp_timestamp=self.__rtp_timestamp",
        "ntp_timestamp=self.__ntp_timestamp",
        "packet_count=self.__packet_count",
        "octet_count=self.__octet_count",
    ):
        if needle not in sender_src:
            problems.append(f"RTCRtpSender no longer contains {needle!r}")
    for obj, attr in (
        (RTCRtpReceiver, "_send_rtcp_pli"),
        (RTCRtpReceiver, "_handle_rtp_packet"),
        (RTCRtpSender, "_handle_rtcp_packet"),
        (H264Encoder, "_packetize"),
        (H264Encoder, "_split_bitstream"),
        (Vp8Encoder, "_packetize"),
        (aioice.ice, "StunProtocol"),
        (aioice.ice, "get_host_addresses"),
    ):
        if not hasattr(obj, attr):
            problems.append(f"{getattr(obj, '__name__', obj)}.{attr} is gone")
    dtls_src = inspect.getsource(aiortc.rtcdtlstransport.RTCDtlsTransport)
    if "self._tx_srtp.protect(data)" not in dtls_src:
        problems.append("RTCDtlsTransport._tx_srtp.protect is gone")
    ice_src = inspect.getsource(aioice.ice.Connection)
    if "self._nominated" not in ice_src or "active_pair.protocol.send_data" not in ice_src:
        problems.append("aioice Connection._nominated / pair.protocol changed")
    component_src = inspect.getsource(_original_get_component_candidates)
    if "local_addr=(address, 0)" not in component_src or "self._protocols" not in component_src:
        problems.append("aioice get_component_candidates changed")
    if "get_host_addresses(" not in inspect.getsource(aioice.ice.Connection.gather_candidates):
        problems.append("aioice gather_candidates no longer calls get_host_addresses")
    try:
        sps_pps_idr = b"\0\0\0\1\x67\x42" + b"\0\0\0\1\x68\xce" + b"\0\0\1\x65" + bytes(3000)
        payloads = packetize_h264(sps_pps_idr)
        if payloads[0][0] & 0x1F != 24 or len(payloads) < 3:
            problems.append("H.264 packetiser output changed")
        if not packetize_vp8(bytes(2000), 5):
            problems.append("VP8 packetiser output changed")
    except Exception as exc:
        problems.append(f"packetisers fail: {exc!r}")
    process_src = inspect.getsource(pylibsrtp.Session)
    if "func(self._srtp[0], self._cdata, len_p)" not in process_src:
        problems.append("pylibsrtp.Session internals changed")
    import asyncio.selector_events as selector_events

    datagram_transport = getattr(selector_events, "_SelectorDatagramTransport", None)
    if datagram_transport is None or "self._sock.sendto(data, addr)" not in inspect.getsource(
        datagram_transport
    ):
        problems.append("asyncio datagram transports no longer keep _sock")
    if problems:
        raise AiortcIncompatible("; ".join(problems))
