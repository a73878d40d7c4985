"""Display and sound backends: -audiodev for each <audio>, -vnc / -spice for <graphics>, and
-display none when the guest has no graphics at all."""

from __future__ import annotations

from qvirt.conf.devices.graphics import Graphics
from qvirt.conf.devices.sound import Audio, AudioStream
from qvirt.conf.domain import Domain
from qvirt.drivers.qemu.command_chardev import TLS_DIR
from qvirt.drivers.qemu.command_context import Context
from qvirt.drivers.qemu.command_props import Props, drop_none, keyval, to_json
from qvirt.errors import ConfigUnsupported

# <audio type> -> QEMU audiodev driver
AUDIO_DRIVERS = {"none": "none", "alsa": "alsa", "coreaudio": "coreaudio", "jack": "jack",
                 "oss": "oss", "pulseaudio": "pa", "sdl": "sdl", "spice": "spice",
                 "file": "wav", "dbus": "dbus"}

VNC_PORT_BASE = 5900


def nographic(ctx: Context) -> list[str]:
    return [] if ctx.dom.devices.graphics else ["-display", "none"]


def _stream(stream: AudioStream | None) -> Props | None:
    if stream is None:
        return None
    settings = stream.settings
    props = drop_none({
        "mixing-engine": stream.mixing_engine, "fixed-settings": stream.fixed_settings,
        "voices": stream.voices, "buffer-length": stream.buffer_length,
        "frequency": settings.frequency if settings else None,
        "channels": settings.channels if settings else None,
        "format": settings.format if settings else None,
        "dev": stream.dev, "buffer-count": stream.buffer_count, "try-poll": stream.try_poll,
        "name": stream.name, "stream-name": stream.stream_name, "latency": stream.latency,
        "server-name": stream.server_name, "client-name": stream.client_name,
        "connect-ports": stream.connect_ports, "exact-name": stream.exact_name})
    return props or None


def audiodev_props(audio: Audio) -> Props:
    props: Props = {"id": f"audio{audio.id}", "driver": AUDIO_DRIVERS[str(audio.type)]}
    props.update(drop_none({"timer-period": audio.timer_period,
                            "server": audio.server_name, "try-mmap": audio.try_mmap,
                            "exclusive": audio.exclusive, "dsp-policy": audio.dsp_policy,
                            "path": audio.path}))
    props.update(drop_none({"in": _stream(audio.input), "out": _stream(audio.output)}))
    return props


def audio(ctx: Context) -> list[str]:
    argv: list[str] = []
    for dev in ctx.dom.devices.audios:
        argv += ["-audiodev", to_json(audiodev_props(dev))]
    return argv


def graphics(ctx: Context) -> list[str]:
    argv: list[str] = []
    for dev in ctx.dom.devices.graphics:
        if dev.type in ("vnc", "spice"):
            argv += ["-vnc", _vnc(ctx, dev)] if dev.type == "vnc" else ["-spice", _spice(dev)]
            if dev.keymap is not None:
                argv += ["-k", dev.keymap]
        elif dev.type == "sdl":
            if dev.fullscreen:
                argv.append("-full-screen")
            argv += ["-display", keyval("sdl", ("gl", dev.gl_enable))]
        elif dev.type == "egl-headless":
            argv += ["-display", keyval("egl-headless", ("rendernode", dev.gl_rendernode))]
        elif dev.type == "dbus":
            address = dev.dbus_address
            if address is None and not dev.p2p:
                address = f"unix:path={ctx.paths.domain_dir / 'dbus.sock'}"
            argv += ["-display", keyval("dbus", ("p2p", True if dev.p2p else None),
                                        ("addr", address), ("gl", dev.gl_enable),
                                        ("rendernode", dev.gl_rendernode))]
        else:
            raise ConfigUnsupported(f"unsupported graphics type '{dev.type}'")
    return argv


def graphics_env(dom: Domain) -> dict[str, str]:
    """The X display an SDL window opens on, from <graphics type='sdl' display xauth>."""
    env: dict[str, str] = {}
    for dev in dom.devices.graphics:
        if dev.type == "sdl":
            if dev.display:
                env["DISPLAY"] = dev.display
            if dev.xauth:
                env["XAUTHORITY"] = dev.xauth
    return env


def _vnc(ctx: Context, dev: Graphics) -> str:
    listen = dev.listens[0] if dev.listens else None
    if listen is not None and listen.type == "socket":
        target = f"vnc=unix:{listen.socket or ctx.paths.domain_dir / 'vnc.sock'}"
    elif listen is not None and listen.type == "none":
        target = "none"
    else:
        address = (listen.address if listen is not None else None) or "127.0.0.1"
        if ":" in address:
            address = f"[{address}]"
        port = dev.port if dev.port is not None and dev.port >= VNC_PORT_BASE else VNC_PORT_BASE
        target = f"{address}:{port - VNC_PORT_BASE}"
    pairs: list[tuple[str, object | None]] = []
    if dev.websocket is not None:
        pairs.append(("websocket", dev.websocket))
    if dev.share_policy is not None:
        pairs.append(("share", dev.share_policy))
    if dev.passwd is not None:
        pairs.append(("password", True))
    if dev.power_control:
        pairs.append(("power-control", True))
    pairs.append(("audiodev", f"audio{dev.audio_id or _first_audio(ctx)}"))
    return keyval(target, *pairs)


def _first_audio(ctx: Context) -> int:
    return int(ctx.dom.devices.audios[0].id) if ctx.dom.devices.audios else 1


SPICE_CHANNELS = ("main", "display", "inputs", "cursor", "playback", "record", "smartcard",
                  "usbredir")
SPICE_COMPRESSION = (("image_compression", "image-compression"),
                     ("jpeg_compression", "jpeg-wan-compression"),
                     ("zlib_compression", "zlib-glz-wan-compression"),
                     ("playback_compression", "playback-compression"),
                     ("streaming_mode", "streaming-video"))


def _spice(dev: Graphics) -> str:
    """-spice. Ports are the allocated ones: an autoport display whose caller allocated
    none listens on no TCP port at all."""
    listen = dev.listens[0] if dev.listens else None
    port = dev.port if dev.port is not None and dev.port > 0 else None
    tls_port = dev.tls_port if dev.tls_port is not None and dev.tls_port > 0 else None
    secure = [c.name for c in dev.channels if c.mode == "secure"]
    if not tls_port and dev.default_mode == "secure":
        raise ConfigUnsupported("spice defaultMode secure requested in XML configuration, "
                                "but TLS connection is not available")
    if not tls_port and secure:
        raise ConfigUnsupported("spice secure channels set in XML configuration, but TLS "
                                "connection is not available")
    pairs: list[tuple[str, object | None]] = []
    if listen is not None and listen.type == "socket":
        pairs += [("unix", None), ("addr", listen.socket)]
    elif listen is not None and listen.type == "none":
        pairs.append(("port", 0))
    else:
        pairs += [("port", port), ("tls-port", tls_port)]
        if port or tls_port:
            address = listen.address if listen is not None else None
            pairs.append(("addr", address or "127.0.0.1"))
    if dev.mouse_mode is not None:
        pairs.append(("agent-mouse", dev.mouse_mode == "client"))
    pairs.append(("password-secret", None) if dev.passwd is not None
                 else ("disable-ticketing", True))
    if tls_port:
        pairs.append(("x509-dir", TLS_DIR))
    modes = {c.name: c.mode for c in dev.channels}
    if dev.default_mode in ("secure", "insecure"):
        key = "tls-channel" if dev.default_mode == "secure" else "plaintext-channel"
        pairs.append((key, "default"))
    for name in SPICE_CHANNELS:
        if modes.get(name) == "secure":
            pairs.append(("tls-channel", name))
        elif modes.get(name) == "insecure":
            pairs.append(("plaintext-channel", name))
    for attr, key in SPICE_COMPRESSION:
        pairs.append((key, getattr(dev, attr)))
    if dev.clipboard_copypaste is False:
        pairs.append(("disable-copy-paste", True))
    if dev.filetransfer_enable is False:
        pairs.append(("disable-agent-file-xfer", True))
    if dev.gl_enable:
        pairs += [("gl", True), ("rendernode", dev.gl_rendernode)]
    pairs.append(("seamless-migration", True))
    head, *rest = [(k, v) for k, v in pairs if v is not None or k == "unix"]
    return keyval(head[0] if head[1] is None else f"{head[0]}={_value(head[1])}", *rest)


def _value(value: object) -> str:
    return ("on" if value else "off") if isinstance(value, bool) else str(value)
