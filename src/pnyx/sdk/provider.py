"""The app, dataset and workerpool provider."""

from __future__ import annotations

from typing import TypeVar

from pnyx.chain.signing import sign_order, sign_order_operation
from pnyx.domain.orders import AppOrder, DatasetOrder, Order, OrderOperation, WorkerpoolOrder
from pnyx.domain.tags import tag_from_names
from pnyx.sdk._actor import Actor, new_salt
from pnyx.types import ZERO_ADDRESS, Address

_O = TypeVar("_O", bound=Order)


class Provider(Actor):
    # ─── Registration ───
    def register_app(
        self,
        name: str,
        multiaddr: str,
        checksum: str,
        *,
        app_type: str = "WASM",
        mrenclave: bytes = b"",
    ) -> Address:
        return self.protocol.create_app(
            self.account,
            name=name,
            app_type=app_type,
            multiaddr=multiaddr,
            checksum=checksum,
            mrenclave=mrenclave,
        )

    def register_dataset(self, name: str, multiaddr: str, checksum: str) -> Address:
        return self.protocol.create_dataset(
            self.account, name=name, multiaddr=multiaddr, checksum=checksum
        )

    def register_workerpool(self, description: str) -> Address:
        return self.protocol.create_workerpool(self.account, description=description)

    def set_policy(
        self, workerpool: str, worker_stake_ratio: int, scheduler_reward_ratio: int
    ) -> None:
        self.protocol.change_policy(
            self.account, workerpool, worker_stake_ratio, scheduler_reward_ratio
        )

    # ─── Orders ───
    def app_order(
        self,
        app: Address,
        price: int,
        *,
        volume: int = 1,
        tags: tuple[str, ...] = (),
        dataset_restrict: Address = ZERO_ADDRESS,
        workerpool_restrict: Address = ZERO_ADDRESS,
        requester_restrict: Address = ZERO_ADDRESS,
    ) -> AppOrder:
        order = AppOrder(
            app=app,
            app_price=price,
            volume=volume,
            tag=tag_from_names(tags),
            dataset_restrict=dataset_restrict,
            workerpool_restrict=workerpool_restrict,
            requester_restrict=requester_restrict,
            salt=new_salt(),
        )
        return self.sign(order)

    def dataset_order(
        self,
        dataset: Address,
        price: int,
        *,
        volume: int = 1,
        tags: tuple[str, ...] = (),
        app_restrict: Address = ZERO_ADDRESS,
        workerpool_restrict: Address = ZERO_ADDRESS,
        requester_restrict: Address = ZERO_ADDRESS,
    ) -> DatasetOrder:
        order = DatasetOrder(
            dataset=dataset,
            dataset_price=price,
            volume=volume,
            tag=tag_from_names(tags),
            app_restrict=app_restrict,
            workerpool_restrict=workerpool_restrict,
            requester_restrict=requester_restrict,
            salt=new_salt(),
        )
        return self.sign(order)

    def workerpool_order(
        self,
        workerpool: Address,
        price: int,
        *,
        volume: int = 1,
        category: int = 0,
        trust: int = 1,
        tags: tuple[str, ...] = (),
        app_restrict: Address = ZERO_ADDRESS,
        dataset_restrict: Address = ZERO_ADDRESS,
        requester_restrict: Address = ZERO_ADDRESS,
    ) -> WorkerpoolOrder:
        order = WorkerpoolOrder(
            workerpool=workerpool,
            workerpool_price=price,
            volume=volume,
            category=category,
            trust=trust,
            tag=tag_from_names(tags),
            app_restrict=app_restrict,
            dataset_restrict=dataset_restrict,
            requester_restrict=requester_restrict,
            salt=new_salt(),
        )
        return self.sign(order)

    def sign(self, order: _O) -> _O:
        """The order with this provider's EIP-712 signature."""
        return sign_order(self.account, order, self.protocol.domain)

    def presign(self, order: Order) -> None:
        """Marks the order as signed on chain (for owners that cannot sign off chain)."""
        self.protocol.manage_order(self.account, order, OrderOperation.SIGN)

    def cancel(self, order: Order) -> None:
        """Closes the order on chain: its remaining volume can no longer be matched."""
        self.protocol.manage_order(self.account, order, OrderOperation.CLOSE)

    def operation_signature(self, order: Order, operation: OrderOperation) -> bytes:
        """A signature anyone can submit to presign or cancel `order` on this provider's behalf."""
        return sign_order_operation(self.account, order, operation, self.protocol.domain)
