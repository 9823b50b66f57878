"""The requester: pays for executions and gets results or refunds."""

from __future__ import annotations

from pnyx.chain.protocol import MatchedDeal
from pnyx.chain.signing import sign_order
from pnyx.domain.deal import Deal
from pnyx.domain.orders import AppOrder, DatasetOrder, OrderOperation, RequestOrder, WorkerpoolOrder
from pnyx.domain.tags import tag_from_names
from pnyx.domain.views import AccountView
from pnyx.sdk._actor import Actor, new_salt
from pnyx.types import ZERO_ADDRESS, Address


class Requester(Actor):
    # ─── Escrow ───
    def deposit(self, amount: int) -> None:
        """Approves the hub and deposits `amount` nano-tokens."""
        self.protocol.approve(self.account, amount)
        self.protocol.deposit(self.account, amount)

    def withdraw(self, amount: int) -> None:
        self.protocol.withdraw(self.account, amount)

    def balance(self) -> AccountView:
        return self.protocol.account(self.address)

    # ─── Requests ───
    def request_order(
        self,
        app: Address,
        *,
        app_max_price: int,
        workerpool_max_price: int,
        dataset: Address = ZERO_ADDRESS,
        dataset_max_price: int = 0,
        workerpool: Address = ZERO_ADDRESS,
        volume: int = 1,
        category: int = 0,
        trust: int = 1,
        tags: tuple[str, ...] = (),
        params: str = "",
        beneficiary: Address | None = None,
        callback: Address = ZERO_ADDRESS,
    ) -> RequestOrder:
        order = RequestOrder(
            app=app,
            app_max_price=app_max_price,
            dataset=dataset,
            dataset_max_price=dataset_max_price,
            workerpool=workerpool,
            workerpool_max_price=workerpool_max_price,
            requester=self.address,
            volume=volume,
            tag=tag_from_names(tags),
            category=category,
            trust=trust,
            beneficiary=beneficiary or self.address,
            callback=callback,
            params=params,
            salt=new_salt(),
        )
        return sign_order(self.account, order, self.protocol.domain)

    def match(
        self,
        app_order: AppOrder,
        workerpool_order: WorkerpoolOrder,
        request_order: RequestOrder,
        dataset_order: DatasetOrder | None = None,
    ) -> MatchedDeal:
        deal, _ = self.protocol.match_orders(
            self.account, app_order, dataset_order, workerpool_order, request_order
        )
        return deal

    def cancel(self, request_order: RequestOrder) -> None:
        self.protocol.manage_order(self.account, request_order, OrderOperation.CLOSE)

    # ─── Refunds ───
    def claim(self, task_id: str, deal: Deal) -> None:
        """Fails a task past its final deadline: refunds the requester."""
        self.protocol.claim(self.account, task_id, deal)

    def claim_deal(self, matched: MatchedDeal) -> None:
        """Claims every unfinished task of a deal past its final deadline, initialized or not."""
        self.protocol.initialize_and_claim_batch(
            self.account,
            matched.deal_id,
            matched.deal,
            matched.deal.bot_first,
            matched.deal.bot_size,
        )
