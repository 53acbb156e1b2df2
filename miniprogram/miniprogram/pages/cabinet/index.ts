import { services } from '../../utils/services';
import { parseEntry, type CabinetEntry } from '../../utils/qr';
import { decideEntry, nextForFailure, urlFor, PAGES } from '../../utils/router';
import { failureText, cabinetUnavailableText } from '../../utils/texts';
import { formatFen } from '../../utils/money';
import { cartStore, emptyCart, setQty, viewCart, type Cart } from '../../utils/cart';
import { askSubscribe } from '../../utils/subscribe';
import type { CatalogueItem, FlowKind } from '../../utils/wire';

interface ItemView {
  sku: string;
  name: string;
  price: string;
  stock: number;
  qty: number;
}

/** Per-instance state that is not rendered. */
const carts = new WeakMap<object, { cart: Cart; items: CatalogueItem[] }>();

/**
 * A cabinet: the catalogue for open shelves (and for a semi-automatic visit's cart, when `sessionId` is
 * given), the unlock button for door cabinets. It re-checks the entry rules on load, so a page reached any
 * other way than through home still puts debt first.
 */
Component({
  data: {
    loading: true,
    name: '',
    kind: '' as FlowKind | '',
    available: true,
    unavailable: '',
    showCatalogue: false,
    items: [] as ItemView[],
    count: 0,
    total: '',
    unlocking: false,
    error: '',
    cabinetId: '',
    sessionId: '',
  },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      const entry = parseEntry(query);
      if (!entry) return services().platform.reLaunch(PAGES.home);
      this.setData({ cabinetId: entry.cabinetId, sessionId: query['sessionId'] ?? '' });
      void this.load(entry);
    },

    async load(entry: CabinetEntry) {
      const { api, platform } = services();
      const [me, cabinet] = await Promise.all([api.me(), api.cabinet(entry.cabinetId, entry.flow)]);
      if (!me.ok) return this.setData({ loading: false, error: failureText(me.error) });
      if (!cabinet.ok) return this.setData({ loading: false, error: failureText(cabinet.error) });
      const next = decideEntry({ me: me.value, entry, cabinet: cabinet.value });
      if (next.kind !== 'cabinet') {
        if (next.kind === 'resolve_cabinet' || next.kind === 'home') return;
        return platform.redirectTo(urlFor(next));
      }
      const c = cabinet.value;
      const showCatalogue = c.kind === 'open' || this.data.sessionId !== '';
      this.setData({
        name: c.name,
        kind: c.kind,
        available: c.available && c.online,
        unavailable: c.available && c.online ? '' : c.unavailableReason ? cabinetUnavailableText(c.unavailableReason) : c.online ? '柜子暂不可用' : '柜子离线，请稍后再试',
        showCatalogue,
      });
      if (showCatalogue) {
        const cat = await api.catalogue(c.cabinetId);
        if (!cat.ok) return this.setData({ loading: false, error: failureText(cat.error) });
        carts.set(this, { cart: emptyCart(c.cabinetId, this.data.sessionId || undefined), items: cat.value.items });
        this.render();
      }
      this.setData({ loading: false });
    },

    render() {
      const held = carts.get(this);
      if (!held) return;
      const view = viewCart(held.cart, held.items);
      this.setData({
        items: held.items.map((i) => ({ sku: i.sku, name: i.name, price: formatFen(i.priceFen), stock: i.stock, qty: held.cart.qty[i.sku] ?? 0 })),
        count: view.count,
        total: view.total,
      });
    },

    step(e: WechatMiniprogram.BaseEvent, delta: number) {
      const held = carts.get(this);
      const sku = (e.currentTarget.dataset as { sku?: string }).sku;
      const item = held?.items.find((i) => i.sku === sku);
      if (!held || !item) return;
      held.cart = setQty(held.cart, item, (held.cart.qty[item.sku] ?? 0) + delta);
      this.render();
    },
    onInc(e: WechatMiniprogram.BaseEvent) {
      this.step(e, 1);
    },
    onDec(e: WechatMiniprogram.BaseEvent) {
      this.step(e, -1);
    },

    onCheckout() {
      const held = carts.get(this);
      if (!held || this.data.count === 0) return;
      cartStore.put(held.cart, held.items);
      services().platform.navigateTo(PAGES.cart);
    },

    /**
     * 开门. The subscribe prompt must be raised synchronously in this tap (not after an await), and the
     * unlock request goes out at the same time so the door does not wait for the shopper to answer it.
     */
    onUnlock() {
      if (this.data.unlocking) return;
      const { platform, config } = services();
      const t = config.templates;
      // Both door flows can end in debt (a refused deduction, a reviewed difference): ask for what the service sends.
      void askSubscribe(platform, [t.debtCreated, t.debtCleared]);
      void this.unlock();
    },

    async unlock() {
      const { api, platform } = services();
      this.setData({ unlocking: true, error: '' });
      const entry: CabinetEntry = this.data.kind ? { cabinetId: this.data.cabinetId, flow: this.data.kind } : { cabinetId: this.data.cabinetId };
      const r = await api.startVisit(this.data.cabinetId);
      this.setData({ unlocking: false });
      if (r.ok) return platform.redirectTo(`${PAGES.visit}?sessionId=${encodeURIComponent(r.value.sessionId)}&cabinetId=${encodeURIComponent(r.value.cabinetId)}&flow=${r.value.flow}`);
      const next = nextForFailure(r.error.code, entry);
      if (next && next.kind !== 'resolve_cabinet') return platform.redirectTo(urlFor(next));
      this.setData({ error: failureText(r.error) });
    },
  },
});
