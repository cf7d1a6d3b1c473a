"""Building change-feed pages for tests: the real wire format the sync client applies."""

from __future__ import annotations

from typing import Any


def ticket_change(seq: int, ticket_id: int, **fields: Any) -> dict[str, Any]:
    data = {
        "id": ticket_id,
        "subject": f"订单 {ticket_id} 外包装破损",
        "status": "open",
        "priority": "normal",
        "channel": "email",
        "queue": "returns",
        "assignee": None,
        "requester_id": 1,
        "language": "zh-CN",
        "tags": ["破损"],
        "order_id": 1,
        "case_type": "return-and-refund",
        "case_state": "requested",
        "created_at": "2026-11-20T08:00:00Z",
        "updated_at": "2026-11-20T08:00:00Z",
        "first_reply_due": "2026-11-20T12:00:00Z",
        "next_reply_due": None,
        "resolution_due": "2026-11-23T08:00:00Z",
        "snoozed_until": None,
        "version": 1,
    }
    data.update(fields)
    return {"seq": seq, "kind": "ticket", "data": data}


def message_change(seq: int, message_id: int, ticket_id: int, body: str) -> dict[str, Any]:
    return {
        "seq": seq,
        "kind": "message",
        "data": {
            "id": message_id,
            "ticket_id": ticket_id,
            "kind": "public",
            "author_kind": "customer",
            "author": "王芳",
            "channel": "email",
            "body": body,
            "created_at": f"2026-11-20T08:{message_id % 60:02d}:00Z",
        },
    }


def customer_change(seq: int, customer_id: int = 1) -> dict[str, Any]:
    data = {
        "id": customer_id,
        "name": "王芳",
        "locale": "zh-CN",
        "tier": "gold",
        "email": "wangfang@example.cn",
        "phone": None,
        "handles": {"wechat": "wf_88"},
    }
    return {"seq": seq, "kind": "customer", "data": data}


def order_change(seq: int, order_id: int = 1) -> dict[str, Any]:
    data = {
        "id": order_id,
        "number": "JD20261118001",
        "customer_id": 1,
        "items": [{"sku": "RC-5L", "title": "电饭煲 5L", "quantity": 1, "unit_price": "399.00"}],
        "total": "399.00",
        "currency": "CNY",
        "placed_at": "2026-11-18T10:00:00Z",
        "carrier": "SF Express",
        "tracking_number": "SF1234567890123",
        "shipped_at": "2026-11-18T18:00:00Z",
        "delivered_at": "2026-11-19T15:00:00Z",
    }
    return {"seq": seq, "kind": "order", "data": data}


def starter_page() -> list[dict[str, Any]]:
    """A customer, an order, two tickets and three messages, seq 1..7."""
    return [
        customer_change(1),
        order_change(2),
        ticket_change(3, 1),
        message_change(4, 10, 1, "你好，我买的电饭煲收到时外包装破损，内胆有凹痕，申请退货退款"),
        ticket_change(5, 2, subject="Посилка не прийшла", language="uk", tags=[]),
        message_change(6, 11, 2, "Добрий день! Замовлення досі не прийшло, коли буде доставка?"),
        message_change(7, 12, 1, "亲，非常抱歉，请您拍照上传破损处，我们马上为您处理"),
    ]
