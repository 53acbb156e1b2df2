import type { CreateProductRequest, ProductRow, SchedulePriceRequest } from '../../../contracts/catalogue-api';
import { allowed, api } from '../api';
import { getLang, t } from '../i18n';
import { clear, dataTable, h, hashQuery, isoLocal, notice, time, yuan, type Col } from '../ui';
import { blobUrls, enrolmentCol, enrolPanel, loadEnrolments, type EnrolmentState } from './enrolment';

const PACKAGING = ['can', 'bottle', 'bag', 'box'] as const;

/** Yuan as typed (`3.5`, `3.50`) to integer fen; undefined when it is not a price. */
export function fenOf(text: string): number | undefined {
  const m = /^\s*(\d{1,6})(?:\.(\d{1,2}))?\s*$/.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
}

/**
 * `#/products`: the catalogue. Everyone who sees the fleet reads it (SKU, names, price now and the next
 * change); with catalogue.edit a product is added, a price scheduled (from now or a later time, for every
 * site or one site's override) and a product delisted or listed again. The server checks and audits each.
 * The enrolment column says what the recogniser can tell (views/enrolment.ts); with catalogue.edit a
 * product's photos are enrolled from here. `?q=` fills the search (the planogram page links here so).
 */
export function productsView(root: HTMLElement): () => void {
  const search = h('input', { id: 'product-q', type: 'search', placeholder: t('products.search'), 'aria-label': t('products.search'), value: hashQuery().get('q') ?? '' });
  const list = h('div', { id: 'products' }, t('loading'));
  const editor = h('div', { id: 'product-editor' });
  const canEdit = allowed('catalogue.edit');
  const addButton = canEdit ? h('button', { id: 'product-add', onclick: () => create() }, t('products.add')) : null;
  clear(root, h('section', {}, h('h2', {}, t('nav.products')), h('div', { class: 'toolbar' }, search, addButton), editor, list));

  const done = (msg: string) => () => {
    notice(root, msg);
    clear(editor);
    void load();
  };
  const failed = (e: Error) => notice(root, e.message, 'error');

  const create = () => {
    const f = {
      sku: h('input', { id: 'new-sku', placeholder: 'COLA-ORIG', 'aria-label': 'SKU', required: true }),
      name: h('input', { id: 'new-name', 'aria-label': t('products.nameZh'), required: true }),
      nameEn: h('input', { id: 'new-name-en', 'aria-label': t('products.nameEn'), required: true }),
      brand: h('input', { id: 'new-brand', 'aria-label': t('products.brand'), required: true }),
      flavour: h('input', { id: 'new-flavour', 'aria-label': t('products.flavour'), required: true }),
      packaging: h('select', { id: 'new-packaging', 'aria-label': t('products.packaging') }, PACKAGING.map((p) => h('option', { value: p }, t(`packaging.${p}`)))),
      price: h('input', { id: 'new-price', inputmode: 'decimal', placeholder: '3.50', 'aria-label': t('products.priceYuan'), required: true }),
      barcode: h('input', { id: 'new-barcode', inputmode: 'numeric', 'aria-label': t('products.barcode') }),
    };
    const save = () => {
      const priceFen = fenOf(f.price.value);
      if (priceFen === undefined) return notice(root, t('products.badPrice'), 'error');
      const body: CreateProductRequest = { sku: f.sku.value.trim().toUpperCase(), name: f.name.value.trim(), nameEn: f.nameEn.value.trim(), brand: f.brand.value.trim(), flavour: f.flavour.value.trim(), packaging: f.packaging.value as (typeof PACKAGING)[number], priceFen, ...(f.barcode.value.trim() ? { barcode: f.barcode.value.trim() } : {}) };
      void api<ProductRow>('POST', '/products', body).then(done(t('products.created')), failed);
    };
    clear(
      editor,
      h(
        'form',
        { class: 'product-form', onsubmit: (e: Event) => (e.preventDefault(), save()) },
        h('h3', {}, t('products.add')),
        ...Object.entries({ sku: 'SKU', name: t('products.nameZh'), nameEn: t('products.nameEn'), brand: t('products.brand'), flavour: t('products.flavour'), packaging: t('products.packaging'), price: t('products.priceYuan'), barcode: t('products.barcode') }).map(([k, label]) => h('label', {}, label, f[k as keyof typeof f])),
        h('button', { type: 'submit', id: 'new-save' }, t('products.save')),
      ),
    );
  };

  const schedule = (p: ProductRow) => {
    const price = h('input', { id: 'price-new', inputmode: 'decimal', placeholder: (p.priceNowFen / 100).toFixed(2), 'aria-label': t('products.priceYuan') });
    // datetime-local takes `YYYY-MM-DDTHH:MM` (minutes: its default step is 60 s).
    const from = h('input', { id: 'price-from', type: 'datetime-local', value: isoLocal(Date.now()).slice(0, 16).replace(' ', 'T'), 'aria-label': t('products.from') });
    const site = h('input', { id: 'price-site', placeholder: t('products.allSites'), 'aria-label': t('col.site') });
    const endOverride = h('input', { id: 'price-end-override', type: 'checkbox' });
    const save = () => {
      const siteId = site.value.trim();
      const priceFen = endOverride.checked ? null : fenOf(price.value);
      if (priceFen === undefined) return notice(root, t('products.badPrice'), 'error');
      // Always the time chosen: the server refuses one in the past rather than quietly starting now.
      const at = from.value ? new Date(from.value).getTime() : Date.now();
      const body: SchedulePriceRequest = { priceFen, from: at, ...(siteId ? { siteId } : {}) };
      void api<ProductRow>('POST', `/products/${encodeURIComponent(p.sku)}/prices`, body).then(done(t('products.priceSet')), failed);
    };
    clear(
      editor,
      h(
        'form',
        { class: 'price-form', onsubmit: (e: Event) => (e.preventDefault(), save()) },
        h('h3', {}, `${p.sku} · ${getLang() === 'zh' ? p.name : p.nameEn}`),
        h('p', { class: 'muted' }, t('products.priceHelp')),
        h('label', {}, t('products.priceYuan'), price),
        h('label', {}, `${t('products.from')} (${t('products.localTime', { zone: Intl.DateTimeFormat().resolvedOptions().timeZone })})`, from),
        h('label', {}, t('col.site'), site),
        h('label', {}, endOverride, t('products.endOverride')),
        h('button', { type: 'submit', id: 'price-save' }, t('products.save')),
      ),
    );
  };

  let enrolments: EnrolmentState = { status: 'off', reason: t('loading') };
  const urls = blobUrls();
  const enrol = (p: ProductRow) =>
    enrolPanel(editor, p, enrolments.status === 'on' ? enrolments.rows.get(p.sku) : undefined, {
      canEdit,
      urls,
      enrolled: (row) => {
        if (enrolments.status === 'on') enrolments.rows.set(row.sku, row);
        draw();
      },
    });

  const setStatus = (p: ProductRow, status: 'active' | 'delisted') => void api<ProductRow>('PATCH', `/products/${encodeURIComponent(p.sku)}`, { status, version: p.version }).then(done(t(status === 'active' ? 'products.listed' : 'products.delisted')), failed);

  const cols: Array<Col<ProductRow>> = [
    { id: 'sku', label: 'SKU', value: (p) => p.sku, show: (p) => h('code', {}, p.sku) },
    { id: 'name', label: t('products.name'), value: (p) => (getLang() === 'zh' ? p.name : p.nameEn) },
    { id: 'brand', label: t('products.brand'), value: (p) => p.brand },
    { id: 'price', label: t('products.priceNow'), value: (p) => p.priceNowFen, show: (p) => [yuan(p.priceNowFen), p.prices.some((c) => c.siteId) ? h('small', { class: 'muted' }, ` · ${t('products.overrides')}`) : ''] },
    { id: 'next', label: t('products.next'), value: (p) => p.nextChange?.from ?? 0, show: (p) => (p.nextChange ? `${p.nextChange.priceFen === null ? '—' : yuan(p.nextChange.priceFen)} · ${time(p.nextChange.from)}${p.nextChange.siteId ? ` · ${p.nextChange.siteId}` : ''}` : '') },
    { id: 'status', label: t('col.status'), value: (p) => p.status, show: (p) => h('span', { class: `product-status ${p.status}` }, t(`products.status.${p.status}`)) },
    enrolmentCol(() => enrolments),
  ];
  const actions: Col<ProductRow> = {
    id: 'actions',
    label: '',
    sortable: false,
    value: () => '',
    show: (p) =>
      canEdit
        ? [
            p.status === 'active' ? h('button', { class: 'product-price', 'data-sku': p.sku, onclick: () => schedule(p) }, t('products.schedule')) : '',
            h('button', { class: 'product-status-toggle', 'data-sku': p.sku, onclick: () => setStatus(p, p.status === 'active' ? 'delisted' : 'active') }, t(p.status === 'active' ? 'products.delist' : 'products.relist')),
            enrolments.status === 'on' ? h('button', { class: 'product-enrol', 'data-sku': p.sku, onclick: () => enrol(p) }, t('enrol.action')) : '',
          ]
        : enrolments.status === 'on' && enrolments.rows.has(p.sku)
          ? h('button', { class: 'product-photos', 'data-sku': p.sku, onclick: () => enrol(p) }, t('enrol.photos'))
          : '',
  };
  let rows: ProductRow[] = [];
  let sort = { id: 'sku', desc: false };
  const draw = (): void =>
    clear(
      list,
      dataTable([...cols, actions], rows, { class: 'grid products' }, {
        sort,
        onSort: (s) => {
          sort = s;
          draw();
        },
      }),
    );
  const load = async () => {
    try {
      const q = search.value.trim();
      rows = (await api<{ products: ProductRow[] }>('GET', `/products${q ? `?q=${encodeURIComponent(q)}` : ''}`)).products;
      draw();
    } catch (e) {
      clear(list, h('p', { class: 'error', role: 'alert' }, (e as Error).message));
    }
  };
  let pending: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener('input', () => {
    clearTimeout(pending);
    pending = setTimeout(() => void load(), 250);
  });
  void load();
  void loadEnrolments().then((s) => {
    enrolments = s;
    if (rows.length) draw();
  });
  return () => {
    clearTimeout(pending);
    urls.revoke();
  };
}
