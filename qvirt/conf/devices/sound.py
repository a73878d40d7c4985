"""<sound> devices and the <audio> backends they play through."""

from __future__ import annotations

from qvirt.conf.devices.base import DeviceDef
from qvirt.conf.xmlobject import Attr, Child, Choice, UInt, XMLObject, YesNo
from qvirt.errors import ConfigUnsupported

AUDIO_TYPES = Choice("none", "alsa", "coreaudio", "jack", "oss", "pulseaudio", "sdl", "spice",
                     "file", "dbus")


class Codec(XMLObject):
    TAG = "codec"
    ORDER = ("type",)
    type = Attr("@type", Choice("duplex", "micro", "output"), required=True)


class Sound(DeviceDef):
    TAG = "sound"
    KEEP_EMPTY = True
    ORDER = ("model", "codecs", "audio_id", "alias", "address")
    model = Attr("@model", Choice("sb16", "es1370", "pcspk", "ac97", "ich6", "ich9", "usb",
                                  "ich7"), required=True)
    codecs = Child(Codec, single=False)
    audio_id = Attr("audio/@id", UInt)


class AudioSettings(XMLObject):
    TAG = "settings"
    ORDER = ("frequency", "channels", "format")
    frequency = Attr("@frequency", UInt)
    channels = Attr("@channels", UInt)
    format = Attr("@format", Choice("s8", "u8", "s16", "u16", "s32", "u32", "f32"))


class AudioStream(XMLObject):
    """One direction of an <audio> backend; each backend type reads its own attributes."""

    ORDER = ("mixing_engine", "fixed_settings", "voices", "buffer_length", "dev",
             "buffer_count", "try_poll", "name", "stream_name", "latency", "server_name",
             "client_name", "connect_ports", "exact_name", "settings")
    mixing_engine = Attr("@mixingEngine", YesNo)
    fixed_settings = Attr("@fixedSettings", YesNo)
    voices = Attr("@voices", UInt)
    buffer_length = Attr("@bufferLength", UInt)
    dev = Attr("@dev")
    buffer_count = Attr("@bufferCount", UInt)
    try_poll = Attr("@tryPoll", YesNo)
    name = Attr("@name")
    stream_name = Attr("@streamName")
    latency = Attr("@latency", UInt)
    server_name = Attr("@serverName")
    client_name = Attr("@clientName")
    connect_ports = Attr("@connectPorts")
    exact_name = Attr("@exactName", YesNo)
    settings = Child(AudioSettings)

    def post_parse(self) -> None:
        if self.settings is not None and not self.fixed_settings:
            raise ConfigUnsupported("audio settings specified without fixed settings flag")
        if self.fixed_settings and not self.mixing_engine:
            raise ConfigUnsupported("fixed audio settings requires mixing engine")


class AudioInput(AudioStream):
    TAG = "input"


class AudioOutput(AudioStream):
    TAG = "output"


class Audio(XMLObject):
    """An audio backend. Not a device in libvirt's sense: it has no alias nor address."""

    TAG = "audio"
    ORDER = ("id", "type", "timer_period", "server_name", "try_mmap", "exclusive",
             "dsp_policy", "driver", "path", "input", "output")
    id = Attr("@id", UInt, required=True)
    type = Attr("@type", AUDIO_TYPES, required=True)
    timer_period = Attr("@timerPeriod", UInt)
    server_name = Attr("@serverName")
    try_mmap = Attr("@tryMMap", YesNo)
    exclusive = Attr("@exclusive", YesNo)
    dsp_policy = Attr("@dspPolicy", UInt)
    driver = Attr("@driver", Choice("default", "alsa", "arts", "esd", "pulseaudio", "dsound",
                                    "directsound", "coreaudio", "jack", "oss"))
    path = Attr("@path")
    input = Child(AudioInput)
    output = Child(AudioOutput)
