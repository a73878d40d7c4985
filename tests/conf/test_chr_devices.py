"""Console, character, input, display and platform devices: libvirt 9.0's canonical output of
each reads back and prints byte for byte (the snippets are what `virsh dumpxml --inactive`
printed for them), and parsing keeps only what libvirt's parser keeps."""

from __future__ import annotations

import pytest

from qvirt.conf.devices.chardev import Channel, Console, Parallel, Serial
from qvirt.conf.devices.graphics import Graphics, Video
from qvirt.conf.devices.input import Hub, Input
from qvirt.conf.devices.iommu import IOMMU
from qvirt.conf.devices.memballoon import Memballoon
from qvirt.conf.devices.memory import MemoryDevice
from qvirt.conf.devices.panic import Panic
from qvirt.conf.devices.rng import RNG
from qvirt.conf.devices.shmem import Shmem
from qvirt.conf.devices.sound import Audio, Sound
from qvirt.conf.devices.tpm import TPM
from qvirt.conf.devices.vsock import Vsock
from qvirt.conf.devices.watchdog import Watchdog
from qvirt.conf.xmlobject import XMLObject
from qvirt.errors import ConfigUnsupported

CANONICAL: list[tuple[type[XMLObject], str]] = [
    (Serial, """<serial type='pty'>
  <target type='isa-serial' port='0'>
    <model name='isa-serial'/>
  </target>
</serial>
"""),
    (Serial, """<serial type='file'>
  <source path='/tmp/x' append='on'/>
  <log file='/tmp/l' append='off'/>
  <target type='isa-serial' port='0'>
    <model name='isa-serial'/>
  </target>
</serial>
"""),
    (Serial, """<serial type='tcp'>
  <source mode='connect' host='localhost' service='4555' tls='yes'>
    <reconnect enabled='no'/>
  </source>
  <protocol type='raw'/>
  <target type='isa-serial' port='3'>
    <model name='isa-serial'/>
  </target>
</serial>
"""),
    (Serial, """<serial type='udp'>
  <source mode='bind' host='0.0.0.0' service='2446'/>
  <source mode='connect' host='1.2.3.4' service='2447'/>
  <target type='isa-serial' port='1'>
    <model name='isa-serial'/>
  </target>
</serial>
"""),
    (Serial, """<serial type='unix'>
  <source mode='connect' path='/tmp/x'>
    <seclabel model='dac' relabel='no'/>
    <reconnect enabled='yes' timeout='3'/>
  </source>
  <target type='usb-serial' port='0'>
    <model name='usb-serial'/>
  </target>
  <address type='usb' bus='0' port='1'/>
</serial>
"""),
    (Serial, """<serial type='pty'>
  <target type='pci-serial' port='1'>
    <model name='pci-serial'/>
  </target>
  <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>
</serial>
"""),
    (Parallel, """<parallel type='dev'>
  <source path='/dev/parport0'/>
  <target port='0'/>
</parallel>
"""),
    (Console, """<console type='pty'>
  <target type='virtio' port='1'/>
</console>
"""),
    (Console, """<console type='pty'>
  <target type='serial' port='0'/>
  <address type='isa' iobase='0x3f8' irq='0x4'/>
</console>
"""),
    (Channel, """<channel type='unix'>
  <source mode='bind' path='/tmp/ga.sock'/>
  <target type='virtio' name='org.qemu.guest_agent.0'/>
  <alias name='ua-ga'/>
  <address type='virtio-serial' controller='0' bus='0' port='1'/>
</channel>
"""),
    (Channel, """<channel type='pty'>
  <target type='guestfwd' address='10.0.2.1' port='4600'/>
</channel>
"""),
    (Channel, """<channel type='qemu-vdagent'>
  <source>
    <clipboard copypaste='yes'/>
    <mouse mode='client'/>
  </source>
  <target type='virtio' name='com.redhat.spice.0'/>
</channel>
"""),
    (Channel, """<channel type='spiceport'>
  <source channel='org.qemu.foo'/>
  <target type='virtio' name='org.qemu.foo'/>
</channel>
"""),
    (Input, """<input type='passthrough' bus='virtio'>
  <driver iommu='on'/>
  <source evdev='/dev/input/event1'/>
  <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>
</input>
"""),
    (Input, """<input type='evdev'>
  <source dev='/dev/input/event2' grab='all' grabToggle='ctrl-ctrl' repeat='on'/>
</input>
"""),
    (Input, "<input type='mouse' bus='ps2'/>\n"),
    (Hub, """<hub type='usb'>
  <address type='usb' bus='0' port='1'/>
</hub>
"""),
    (Graphics, "<graphics type='vnc' port='-1' autoport='yes' websocket='-1' listen='0.0.0.0'"
               " keymap='de' sharePolicy='force-shared' powerControl='yes'"
               " passwdValidTo='2010-04-09T15:51:00' connected='keep'>\n"
               "  <listen type='address' address='0.0.0.0'/>\n"
               "</graphics>\n"),
    (Graphics, """\
<graphics type='vnc' port='5901' autoport='no' websocket='5700' listen='127.0.0.1'>
  <listen type='address' address='127.0.0.1'/>
</graphics>
"""),
    (Graphics, """<graphics type='vnc' socket='/tmp/vnc.sock'>
  <listen type='socket' socket='/tmp/vnc.sock'/>
</graphics>
"""),
    (Graphics, """<graphics type='vnc' port='-1' autoport='yes'>
  <listen type='network' network='default'/>
</graphics>
"""),
    (Graphics, """<graphics type='vnc'>
  <listen type='none'/>
</graphics>
"""),
    (Graphics, "<graphics type='spice' port='5903' autoport='no' listen='127.0.0.1'"
               " keymap='en-us' defaultMode='secure' passwdValidTo='2010-04-09T15:51:00'"
               " connected='disconnect'>\n"
               "  <listen type='address' address='127.0.0.1'/>\n"
               "  <channel name='main' mode='secure'/>\n"
               "  <channel name='record' mode='insecure'/>\n"
               "  <image compression='glz'/>\n"
               "</graphics>\n"),
    (Graphics, """<graphics type='spice' autoport='yes'>
  <listen type='address'/>
  <channel name='main' mode='secure'/>
  <image compression='auto_glz'/>
  <jpeg compression='auto'/>
  <zlib compression='auto'/>
  <playback compression='on'/>
  <streaming mode='filter'/>
  <mouse mode='client'/>
  <clipboard copypaste='no'/>
  <filetransfer enable='no'/>
  <gl enable='no'/>
</graphics>
"""),
    (Graphics, """<graphics type='sdl' display=':0' xauth='/root/.Xauthority' fullscreen='yes'>
  <gl enable='no'/>
</graphics>
"""),
    (Graphics, """<graphics type='egl-headless'>
  <gl rendernode='/dev/dri/renderD128'/>
</graphics>
"""),
    (Graphics, "<graphics type='dbus' p2p='yes'/>\n"),
    (Video, """<video>
  <model type='qxl' ram='65536' vram='65536' vgamem='16384' heads='1' primary='yes'/>
  <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>
</video>
"""),
    (Video, """<video>
  <driver iommu='on' name='qemu'/>
  <model type='virtio' heads='1' primary='yes'>
    <resolution x='800' y='600'/>
  </model>
</video>
"""),
    (Video, """<video>
  <model type='virtio' heads='2'>
    <acceleration accel3d='no'/>
  </model>
</video>
"""),
    (Video, """<video>
  <driver vgaconf='on'/>
  <model type='qxl' ram='65536' vram='65536' vgamem='16384' heads='1' primary='yes'/>
</video>
"""),
    (Sound, """<sound model='ich6'>
  <codec type='micro'/>
  <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>
</sound>
"""),
    (Sound, "<sound model='sb16'/>\n"),
    (Audio, "<audio id='1' type='pulseaudio' timerPeriod='50' serverName='/run/pulse'>\n"
            "  <input mixingEngine='yes' fixedSettings='yes' voices='1' bufferLength='100'"
            " name='in' streamName='s' latency='10'>\n"
            "    <settings frequency='44100' channels='2' format='s16'/>\n"
            "  </input>\n"
            "</audio>\n"),
    (Audio, """<audio id='2' type='oss' tryMMap='yes' exclusive='no' dspPolicy='5'>
  <input dev='/dev/dsp0' bufferCount='3' tryPoll='yes'/>
</audio>
"""),
    (Audio, "<audio id='1' type='file' path='/tmp/a.wav'/>\n"),
    (Watchdog, "<watchdog model='ib700' action='reset'/>\n"),
    (Memballoon, """<memballoon model='virtio' autodeflate='on' freePageReporting='on'>
  <stats period='10'/>
  <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>
  <driver iommu='on'/>
</memballoon>
"""),
    (Memballoon, "<memballoon model='none'/>\n"),
    (RNG, """<rng model='virtio'>
  <rate bytes='1234' period='2000'/>
  <backend model='random'>/dev/random</backend>
  <driver iommu='on'/>
  <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>
</rng>
"""),
    (RNG, """<rng model='virtio'>
  <backend model='egd' type='udp'>
    <source mode='bind' service='1234'/>
    <source mode='connect' host='1.2.3.4' service='1234'/>
  </backend>
</rng>
"""),
    (RNG, """<rng model='virtio-non-transitional'>
  <backend model='builtin'/>
</rng>
"""),
    (Panic, """<panic model='isa'>
  <address type='isa' iobase='0x505'/>
</panic>
"""),
    (TPM, """<tpm model='tpm-tis'>
  <backend type='passthrough'>
    <device path='/dev/tpm0'/>
  </backend>
</tpm>
"""),
    (Shmem, """<shmem name='sh3'>
  <model type='ivshmem-plain'/>
  <size unit='M'>2</size>
  <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>
</shmem>
"""),
    (Vsock, """<vsock model='virtio'>
  <cid auto='no' address='3'/>
</vsock>
"""),
    (IOMMU, """<iommu model='intel'>
  <driver intremap='on' caching_mode='on' iotlb='on' aw_bits='48'/>
</iommu>
"""),
    (MemoryDevice, """<memory model='dimm'>
  <target>
    <size unit='KiB'>524288</size>
    <node>0</node>
  </target>
</memory>
"""),
]


@pytest.mark.parametrize(("cls", "xml"), CANONICAL,
                         ids=[f"{i}-{c.TAG}" for i, (c, _) in enumerate(CANONICAL)])
def test_canonical_output_round_trips(cls: type[XMLObject], xml: str) -> None:
    obj = cls.from_xml(xml, validate=True)
    assert obj.to_xml() == xml
    assert cls.from_xml(obj.to_xml()) == obj


def test_source_keeps_only_what_the_type_reads() -> None:
    serial = Serial.from_xml("<serial type='file'><source path='/tmp/z' host='h' mode='bind'/>"
                             "<protocol type='telnet'/></serial>")
    assert serial.to_xml() == "<serial type='file'>\n  <source path='/tmp/z'/>\n</serial>\n"


def test_tcp_and_unix_sources_default_to_connect_and_raw() -> None:
    tcp = Serial.from_xml("<serial type='tcp'><source host='localhost' service='4555'/>"
                          "</serial>")
    assert tcp.sources[0].mode == "connect" and tcp.protocol == "raw"
    unix = Serial.from_xml("<serial type='unix'><source mode='bind'/></serial>")
    assert unix.sources == []


def test_serial_without_type_is_a_pty() -> None:
    assert Serial.from_xml("<serial/>").type == "pty"


def test_password_is_kept_but_not_written() -> None:
    gfx = Graphics.from_xml("<graphics type='vnc' port='5900' passwd='secret'/>")
    assert gfx.passwd == "secret"
    assert "secret" not in gfx.to_xml()


@pytest.mark.parametrize(("given", "port", "autoport"), [
    ("port='5904'", 5904, False),
    ("port='-1'", -1, True),
    ("port='5904' autoport='yes'", -1, True),
    ("autoport='no'", None, False),
    ("port='0'", None, False),
    ("autoport='maybe'", -1, True),
    ("", -1, True),
])
def test_vnc_ports_in_inactive_form(given: str, port: int | None, autoport: bool) -> None:
    gfx = Graphics.from_xml(f"<graphics type='vnc' {given}/>")
    assert (gfx.port, gfx.autoport) == (port, autoport)


def test_spice_any_mode_is_the_default_and_not_written() -> None:
    gfx = Graphics.from_xml("<graphics type='spice' defaultMode='any'>"
                            "<channel name='inputs' mode='any'/></graphics>")
    assert gfx.default_mode is None and gfx.channels == []


def test_rng_backend_text_is_read_only_for_random() -> None:
    rng = RNG.from_xml("<rng model='virtio'><backend model='builtin'>  </backend></rng>")
    assert rng.backend is not None and rng.backend.path is None


def test_channel_state_is_read_leniently() -> None:
    chan = Channel.from_xml("<channel type='pty'><target type='virtio' state='foo'/></channel>")
    assert chan.target_state == "foo"


def test_udp_writes_bind_before_connect() -> None:
    serial = Serial.from_xml("<serial type='udp'><source mode='connect' host='h' service='1'/>"
                             "<source mode='bind' service='2'/></serial>")
    assert [s.mode for s in serial.sources] == ["bind", "connect"]


def test_audio_settings_need_fixed_settings_and_mixing() -> None:
    with pytest.raises(ConfigUnsupported, match="without fixed settings flag"):
        Audio.from_xml("<audio id='1' type='alsa'><input><settings frequency='1'/></input>"
                       "</audio>")
    with pytest.raises(ConfigUnsupported, match="requires mixing engine"):
        Audio.from_xml("<audio id='1' type='alsa'><input fixedSettings='yes'/></audio>")


def test_serial_target_model_implies_its_target_type() -> None:
    with pytest.raises(ConfigUnsupported, match="requires target type 'system-serial'"):
        Serial.from_xml("<serial type='pty'><target type='isa-serial'>"
                        "<model name='pl011'/></target></serial>")
