"""Choosing and configuring the gateway: settings checked at start (exit 2 naming the
variable), credentials masked, and every gateway the factory builds keeping the contract."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from dialer.cli import main
from dialer.config import Secret, Settings
from dialer.errors import ConfigError
from dialer.gateway import Gateway
from dialer.telephony.ari import AriGateway
from dialer.telephony.esl import EslGateway
from dialer.telephony.factory import make_gateway, start_gateway
from dialer.telephony.sim import SimulatedGateway
from dialer.timer import LoopTimer, VirtualTimer
from tests.fakes.ari_server import FakeAsterisk
from tests.fakes.contract import CONTRACT, CONTRACT_IDS, Harness, LiveHarness, VirtualHarness
from tests.fakes.esl_server import FakeFreeSwitch
from tests.fakes.gateways import HARNESS_NUMBERS

ARI_ENV = {
    "DIALER_GATEWAY": "ari",
    "DIALER_ARI_URL": "http://pbx.example:8088/ari/",
    "DIALER_ARI_USER": "dialer",
    "DIALER_ARI_PASSWORD": "pa55-w0rd",
}


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"DIALER_GATEWAY": "ari"}, "DIALER_ARI_URL"),
        ({**ARI_ENV, "DIALER_ARI_USER": ""}, "DIALER_ARI_USER"),
        ({**ARI_ENV, "DIALER_ARI_PASSWORD": " "}, "DIALER_ARI_PASSWORD"),
        ({"DIALER_GATEWAY": "esl"}, "DIALER_ESL_PASSWORD"),
    ],
)
def test_a_real_switch_without_its_settings_is_refused_at_start(
    env: dict[str, str], missing: str
) -> None:
    with pytest.raises(ConfigError) as err:
        Settings.from_env(env)
    assert missing in err.value.message and err.value.field == missing


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DIALER_ARI_URL", "pbx:8088/ari"),
        ("DIALER_TRUNK_TEMPLATE", "PJSIP/{phone}@trunk"),
        ("DIALER_TRUNK_TEMPLATE", "PJSIP/trunk"),
        ("DIALER_TRUNK_TEMPLATE", "PJSIP/{number@trunk"),
        ("DIALER_AGENT_ENDPOINT_TEMPLATE", "PJSIP/{number}"),
        ("DIALER_ARI_APP", "dialer app"),
        ("DIALER_ESL_PORT", "80211"),
    ],
)
def test_bad_gateway_settings_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as err:
        Settings.from_env({**ARI_ENV, name: value})
    assert name in err.value.message


def test_credentials_in_the_url_are_refused_without_echoing_them() -> None:
    url = "http://dialer:pa55-w0rd@pbx:8088/ari"
    with pytest.raises(ConfigError) as err:
        Settings.from_env({**ARI_ENV, "DIALER_ARI_URL": url})
    assert "DIALER_ARI_URL" in err.value.message and "pa55-w0rd" not in err.value.message


def test_passwords_are_masked_wherever_settings_are_shown() -> None:
    settings = Settings.from_env({**ARI_ENV, "DIALER_ESL_PASSWORD": "ClueCon"})
    assert settings.ari_password == Secret("pa55-w0rd")
    for shown in (repr(settings), str(settings), f"{settings.ari_password}"):
        assert "pa55-w0rd" not in shown and "ClueCon" not in shown


def test_cli_exits_2_with_one_line_naming_the_missing_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DIALER_GATEWAY", "ari")
    assert main(["campaign", "list"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "DIALER_ARI_URL" in err[0]


async def test_factory_builds_the_named_gateway_with_switch_defaults() -> None:
    timer = LoopTimer()
    assert isinstance(make_gateway(Settings.from_env({}), timer), SimulatedGateway)
    ari = make_gateway(Settings.from_env(ARI_ENV), timer)
    assert isinstance(ari, AriGateway) and isinstance(ari, Gateway)
    assert ari.config.url == "http://pbx.example:8088/ari" and ari.config.app == "dialer"
    assert ari.config.strings.callee("+15551230000") == "PJSIP/+15551230000@trunk"
    esl = make_gateway(
        Settings.from_env(
            {
                "DIALER_GATEWAY": "esl",
                "DIALER_ESL_PASSWORD": "ClueCon",
                "DIALER_TRUNK_TEMPLATE": "sofia/gateway/carrier/{digits}",
                "DIALER_SAFE_HARBOR_SOUND": "/srv/sounds/acme-sorry.wav",
            }
        ),
        timer,
    )
    assert isinstance(esl, EslGateway) and isinstance(esl, Gateway)
    assert esl.config.strings.callee("+15551230000") == "sofia/gateway/carrier/15551230000"
    assert esl.config.strings.sound == "/srv/sounds/acme-sorry.wav"
    assert (esl.config.host, esl.config.port) == ("127.0.0.1", 8021)


async def test_start_gateway_connects_a_real_switch_and_skips_the_simulator() -> None:
    await start_gateway(make_gateway(Settings.from_env({}), LoopTimer()))
    fake = FakeAsterisk()
    await fake.start()
    try:
        env = {**ARI_ENV, "DIALER_ARI_URL": fake.url, "DIALER_ARI_PASSWORD": fake.password}
        gateway = make_gateway(Settings.from_env(env), LoopTimer())
        assert isinstance(gateway, AriGateway)
        try:
            await start_gateway(gateway)
            assert gateway.link.ready.is_set() and fake.connections == 1
        finally:
            await gateway.close()
    finally:
        await fake.stop()


@pytest.mark.parametrize("kind", ["sim", "ari", "esl"])
@pytest.mark.parametrize("behaviour", CONTRACT, ids=CONTRACT_IDS)
async def test_every_gateway_the_factory_builds_keeps_the_contract(
    kind: str, behaviour: Callable[[Harness], Awaitable[None]]
) -> None:
    if kind == "sim":
        timer = VirtualTimer()
        gateway = make_gateway(Settings.from_env({}), timer)
        try:
            await behaviour(VirtualHarness(gateway, HARNESS_NUMBERS, timer))
        finally:
            await gateway.close()
        return
    fake: FakeAsterisk | FakeFreeSwitch
    if kind == "ari":
        fake = FakeAsterisk(time_scale=0.005)
        await fake.start()
        env = {**ARI_ENV, "DIALER_ARI_URL": fake.url, "DIALER_ARI_PASSWORD": fake.password}
    else:
        fake = FakeFreeSwitch(time_scale=0.005)
        await fake.start()
        env = {
            "DIALER_GATEWAY": "esl",
            "DIALER_ESL_PORT": str(fake.port),
            "DIALER_ESL_PASSWORD": fake.password,
        }
    try:
        gateway = make_gateway(Settings.from_env(env), LoopTimer())
        try:
            await behaviour(LiveHarness(gateway, HARNESS_NUMBERS))
        finally:
            await gateway.close()
    finally:
        await fake.stop()
