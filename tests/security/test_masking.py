"""The one masking function every log and store uses: each form of personal data a visitor types,
and the policy text around it left as it is."""

from __future__ import annotations

import logging

import pytest

from core.privacy import MaskingFilter, for_log, mask

# (text, what must be gone, the placeholder that stands in its place)
HIDDEN = [
    ("我的手机13812345678，请回电", "13812345678", "[手机号]"),
    ("手机 138 1234 5678 找我", "138 1234 5678", "[手机号]"),
    ("手机138-1234-5678", "138-1234-5678", "[手机号]"),
    ("+86 139 8765 4321", "139 8765 4321", "[手机号]"),
    ("+8613987654321", "13987654321", "[手机号]"),
    ("０086 138１２３４５６７８", "１２３４５６７８", "[手机号]"),
    ("全角１３８１２３４５６７８", "１３８１２３４５６７８", "[手机号]"),
    ("座机023-68881234转人工", "023-68881234", "[电话]"),
    ("座机02368881234", "02368881234", "[电话]"),
    ("区号四位 0755-1234567", "0755-1234567", "[电话]"),
    ("(0755) 8765 4321 转 806", "8765 4321 转 806", "[电话]"),
    ("（010）6888-1234", "6888-1234", "[电话]"),
    ("010-68881234-8001", "8001", "[电话]"),
    ("010-68881234 分机 12", "分机 12", "[电话]"),
    ("办公电话：68881234", "68881234", "[电话]"),
    ("身份证号11010119900307457X办理", "11010119900307457X", "[身份证号]"),
    ("身份证号11010119900307457x", "11010119900307457x", "[身份证号]"),
    ("身份证500101199001011234", "500101199001011234", "[身份证号]"),
    ("证件 500101 19900101 123X", "500101 19900101 123X", "[身份证号]"),
    ("老身份证130503670401001", "130503670401001", "[身份证号]"),
    ("卡号6222 0212 3456 7890 123", "6222 0212 3456 7890 123", "[银行卡号]"),
    ("卡号6222-0212-3456-7890", "6222-0212-3456-7890", "[银行卡号]"),
    ("账户6217000010012345678", "6217000010012345678", "[银行卡号]"),
    ("邮箱zhang.wei@example.com.cn联系", "zhang.wei@example.com.cn", "[邮箱]"),
    ("发到 li_na+policy@mail.example.org 即可", "li_na+policy@mail.example.org", "[邮箱]"),
]

# policy wording with numbers in it stays verbatim
KEPT = [
    "2025年12月底前建设5G基站5050个，奖励20万元，文号渝府发〔2021〕45号",
    "年营业额达到1000万元、5000万元、1亿元以上的，分别给予一次性奖励2万元、5万元、10万元",
    "政务服务热线12345，工作日9:00-17:00",
    "统一社会信用代码证书编号2023年第0012号",
    "2026年11月22日起施行，有效期3年",
    "第35项任务，完成时限2025年12月31日",
]


@pytest.mark.parametrize(("text", "hidden", "placeholder"), HIDDEN)
def test_mask_hides_personal_data(text: str, hidden: str, placeholder: str) -> None:
    out = mask(text)
    assert hidden not in out
    assert placeholder in out


@pytest.mark.parametrize("text", KEPT)
def test_mask_keeps_policy_text(text: str) -> None:
    assert mask(text) == text


def test_id_number_is_not_split_into_a_phone() -> None:
    assert mask("500101199001011234") == "[身份证号]"
    assert mask("13812345678，500101199001011234") == "[手机号]，[身份证号]"


def test_for_log_is_single_line_short_and_masked() -> None:
    out = for_log("电话13812345678\n" + "很长" * 500, limit=50)
    assert "\n" not in out and "13812345678" not in out and len(out) < 80


def test_every_log_record_is_masked_by_the_filter(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("tests.masking")
    caplog.handler.addFilter(MaskingFilter())
    with caplog.at_level(logging.INFO, logger="tests.masking"):
        log.info("question %r from %s", "我的身份证11010119900307457X", "zhang.wei@example.com")
    assert caplog.text.count("[身份证号]") == 1 and "[邮箱]" in caplog.text
    assert "11010119900307457X" not in caplog.text and "zhang.wei" not in caplog.text
