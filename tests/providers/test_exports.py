"""The public surface is what docs/interfaces.md and mock_providers/README.md say."""

from __future__ import annotations

import mock_providers
import mock_providers.cardpay
import mock_providers.core
import mock_providers.core.faults


def test_top_level_exports_are_lazy_and_documented():
    assert mock_providers.__all__ == ["ProviderHost", "ControlClient", "ControlError"]
    from mock_providers.control import ControlClient, ControlError
    from mock_providers.host import ProviderHost
    assert mock_providers.ProviderHost is ProviderHost
    assert mock_providers.ControlClient is ControlClient and mock_providers.ControlError is ControlError


def test_package_all_names_exist():
    for module in (mock_providers.core, mock_providers.core.faults, mock_providers.cardpay):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"
    assert {"FAULT_KINDS", "parse_rule", "FaultRuleError"} <= set(mock_providers.core.faults.__all__)
    assert {"CardPay", "TEST_CARDS", "TestCard"} <= set(mock_providers.cardpay.__all__)


def test_errors_come_from_the_one_tree():
    from harness.errors import ProviderError
    from mock_providers.control import ControlError
    assert issubclass(ControlError, ProviderError)


def test_provider_registry():
    from mock_providers.registry import PROVIDERS, load_provider
    assert load_provider("cardpay") is mock_providers.cardpay.CardPay
    assert set(PROVIDERS) == {"cardpay"}
