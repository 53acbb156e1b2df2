package fleet.crosscheck;

import cn.binarywang.wx.miniapp.api.WxMaService;
import cn.binarywang.wx.miniapp.api.impl.WxMaServiceImpl;
import cn.binarywang.wx.miniapp.bean.WxMaJscode2SessionResult;
import cn.binarywang.wx.miniapp.bean.WxMaPhoneNumberInfo;
import cn.binarywang.wx.miniapp.bean.WxMaSubscribeMessage;
import cn.binarywang.wx.miniapp.config.impl.WxMaDefaultConfigImpl;
import com.github.binarywang.wxpay.bean.request.WxMaEntrustRequest;
import com.github.binarywang.wxpay.bean.request.WxSignQueryRequest;
import com.github.binarywang.wxpay.bean.request.WxTerminatedContractRequest;
import com.github.binarywang.wxpay.bean.request.WxWithholdOrderQueryRequest;
import com.github.binarywang.wxpay.bean.request.WxWithholdRequest;
import com.github.binarywang.wxpay.bean.result.WxSignQueryResult;
import com.github.binarywang.wxpay.bean.result.WxSignStatusNotifyResult;
import com.github.binarywang.wxpay.bean.result.WxTerminationContractResult;
import com.github.binarywang.wxpay.bean.result.WxWithholdNotifyResult;
import com.github.binarywang.wxpay.bean.result.WxWithholdOrderQueryResult;
import com.github.binarywang.wxpay.bean.result.WxWithholdResult;
import com.github.binarywang.wxpay.config.WxPayConfig;
import com.github.binarywang.wxpay.exception.WxPayException;
import com.github.binarywang.wxpay.service.WxPayService;
import com.github.binarywang.wxpay.service.impl.WxPayServiceImpl;
import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.reflect.TypeToken;
import com.sun.net.httpserver.HttpServer;
import me.chanjar.weixin.common.error.WxErrorException;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The cross-check driver: WxJava 4.7.0 (weixin-java-pay, weixin-java-miniapp) used by a merchant exactly as
 * its documentation shows, pointed at the WeChat emulator by base URL only. Its own signing, its own answer
 * checks (checkResult), its own notification parsers and sign checks; nothing of its requests is patched.
 * The shopper's side (tapping agree in the signing mini-program, login and phone codes) is the emulator's
 * control API, as in every other test here.
 *
 * Usage: java -jar crosscheck.jar BASE_URL SANDBOX_DATA_DIR OPENID. Prints one JSON line per check
 * ({"check","ok","detail"}) and a last {"done",failed}; exits 1 when any check failed.
 */
public final class Main {
  private static final Gson GSON = new Gson();
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final String SUCCESS_XML = "<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>";
  private static final String FAIL_XML = "<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[sign]]></return_msg></xml>";

  private final String base;
  private final Map<String, String> merchant;
  private final String openid;
  private int failed;
  /** Notifications received, per path, as the SDK parsed and verified them (or the reason it refused). */
  private final Map<String, BlockingQueue<Received>> inbox = new ConcurrentHashMap<>();
  /** How the receiver verifies what arrives on a path: the sign type the merchant's SDK is configured with. */
  private final Map<String, Verifier> verifiers = new ConcurrentHashMap<>();
  private String receiverBase;

  interface Verifier {
    Object verify(String xml) throws WxPayException;
  }

  record Received(String xml, Object parsed, String refusal) {}

  private Main(String base, Map<String, String> merchant, String openid) {
    this.base = base;
    this.merchant = merchant;
    this.openid = openid;
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      System.err.println("usage: crosscheck BASE_URL SANDBOX_DATA_DIR OPENID");
      System.exit(2);
    }
    Map<String, String> merchant = GSON.fromJson(Files.readString(Path.of(args[1], "merchant.json")), new TypeToken<Map<String, String>>() {}.getType());
    Main m = new Main(args[0].replaceAll("/+$", ""), merchant, args[2]);
    HttpServer server = m.startReceiver();
    try {
      m.papay("MD5");
      m.papay("HMAC-SHA256");
      m.miniProgram();
    } finally {
      server.stop(0);
    }
    System.out.println(GSON.toJson(Map.of("done", true, "failed", m.failed)));
    System.exit(m.failed == 0 ? 0 : 1);
  }

  // ---- reporting ----------------------------------------------------------------------------------------

  private void check(String name, boolean ok, Object detail) {
    if (!ok) failed++;
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("check", name);
    line.put("ok", ok);
    line.put("detail", String.valueOf(detail));
    System.out.println(GSON.toJson(line));
  }

  private interface Step {
    void run() throws Exception;
  }

  /** What a call the SDK should refuse ended in: "accepted", WeChat's return_msg, or the errcode. */
  private static String outcome(Step call) {
    try {
      call.run();
      return "accepted";
    } catch (WxPayException e) {
      return e.getReturnMsg() != null ? e.getReturnMsg() : String.valueOf(e.getMessage());
    } catch (WxErrorException e) {
      return String.valueOf(e.getError().getErrorCode());
    } catch (Exception e) {
      return e.toString();
    }
  }

  /** Runs a step; an exception is that check failing, with its message. */
  private void step(String name, Step s) {
    try {
      s.run();
    } catch (Exception e) {
      check(name, false, e.getClass().getSimpleName() + ": " + e.getMessage());
    }
  }

  // ---- the merchant's notification endpoints -------------------------------------------------------------

  private HttpServer startReceiver() throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", ex -> {
      String path = ex.getRequestURI().getPath();
      String xml = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      Verifier v = verifiers.get(path);
      Received r;
      if (v == null) r = new Received(xml, null, "no endpoint");
      else {
        Object parsed = null;
        String refusal = null;
        try {
          parsed = v.verify(xml);
        } catch (Exception e) {
          refusal = e.getMessage();
        }
        r = new Received(xml, parsed, refusal);
      }
      inbox.computeIfAbsent(path, k -> new LinkedBlockingQueue<>()).add(r);
      byte[] answer = (r.refusal == null ? SUCCESS_XML : FAIL_XML).getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "text/xml");
      ex.sendResponseHeaders(r.refusal == null ? 200 : 400, answer.length);
      ex.getResponseBody().write(answer);
      ex.close();
    });
    server.start();
    receiverBase = "http://127.0.0.1:" + server.getAddress().getPort();
    return server;
  }

  private Received await(String path) throws InterruptedException {
    Received r = inbox.computeIfAbsent(path, k -> new LinkedBlockingQueue<>()).poll(15, TimeUnit.SECONDS);
    if (r == null) throw new IllegalStateException("no notification at " + path + " within 15 s");
    return r;
  }

  // ---- the shopper's WeChat (emulator control API) ------------------------------------------------------

  private JsonObject control(String path, Object body) throws IOException, InterruptedException {
    HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/__control/" + path)).POST(HttpRequest.BodyPublishers.ofString(GSON.toJson(body))).build();
    HttpResponse<String> res = HTTP.send(req, HttpResponse.BodyHandlers.ofString());
    if (res.statusCode() != 200) throw new IllegalStateException("control " + path + " answered " + res.statusCode() + ": " + res.body());
    return GSON.fromJson(res.body(), JsonObject.class);
  }

  // ---- papay v2 -----------------------------------------------------------------------------------------

  private WxPayService payService(String signType) {
    WxPayConfig c = new WxPayConfig();
    c.setAppId(merchant.get("appid"));
    c.setMchId(merchant.get("mchid"));
    c.setMchKey(merchant.get("apiV2Key"));
    c.setSignType(signType);
    c.setPayBaseUrl(base);
    WxPayService s = new WxPayServiceImpl();
    s.setConfig(c);
    return s;
  }

  private void papay(String signType) throws Exception {
    String t = signType.equals("MD5") ? "md5" : "hmac";
    WxPayService pay = payService(signType);
    String other = signType.equals("MD5") ? "HMAC-SHA256" : "MD5";
    String signedPath = "/signed/" + t;
    String deductedPath = "/deducted/" + t;
    String terminatedPath = "/terminated/" + t;
    // The merchant's endpoints verify with the SDK's own parsers and the sign type the merchant signs with.
    verifiers.put(signedPath, xml -> {
      WxSignStatusNotifyResult r = WxSignStatusNotifyResult.fromXML(xml);
      r.checkResult(pay, signType, true);
      return r;
    });
    verifiers.put(terminatedPath, verifiers.get(signedPath));
    verifiers.put(deductedPath, xml -> {
      WxWithholdNotifyResult r = WxWithholdNotifyResult.fromXML(xml);
      r.checkResult(pay, signType, true);
      return r;
    });
    // The merchant portal: the papay template's termination URL.
    control("papay/template", Map.of("terminationNotifyUrl", receiverBase + terminatedPath));

    String code = "WXJ" + t + System.nanoTime();
    String[] contractId = new String[1];
    step(t + ".sign", () -> {
      WxMaEntrustRequest req = WxMaEntrustRequest.newBuilder()
        .planId(merchant.get("planId"))
        .contractCode(code)
        .requestSerial(System.currentTimeMillis() / 1000)
        .contractDisplayAccount("Cross check")
        .notifyUrl(receiverBase + signedPath)
        .version("1.0")
        .timestamp(String.valueOf(System.currentTimeMillis() / 1000))
        .build();
      String extraData = pay.getWxEntrustPapService().maSign(req);
      Map<String, Object> extra = GSON.fromJson(extraData, new TypeToken<Map<String, Object>>() {}.getType());
      JsonObject r = control("papay/sign", Map.of("openid", openid, "extraData", extra));
      contractId[0] = r.get("contract_id").getAsString();
      check(t + ".sign", !contractId[0].isEmpty(), "contract " + contractId[0]);
    });
    step(t + ".notify.add", () -> {
      Received r = await(signedPath);
      WxSignStatusNotifyResult n = (WxSignStatusNotifyResult) r.parsed;
      check(t + ".notify.add", r.refusal == null && "ADD".equals(n.getChangeType()) && contractId[0].equals(n.getContractId()) && code.equals(n.getContractCode()), r.refusal != null ? r.refusal : n.getChangeType() + " " + n.getContractId());
      // The same notification fails a merchant that signs with the other type.
      String checked = outcome(() -> WxSignStatusNotifyResult.fromXML(r.xml).checkResult(payService(other), other, true));
      check(t + ".notify.add.otherTypeRefused", !checked.equals("accepted"), "checked as " + other + ": " + checked);
    });
    step(t + ".querycontract", () -> {
      WxSignQueryResult q = pay.getWxEntrustPapService().querySign(WxSignQueryRequest.newBuilder().contractId(contractId[0]).version("1.0").build());
      check(t + ".querycontract", Integer.valueOf(0).equals(q.getContractState()) && openid.equals(q.getOpenId()) && code.equals(q.getContractCode()), "state " + q.getContractState());
    });
    step(t + ".querycontract.byCode", () -> {
      WxSignQueryResult q = pay.getWxEntrustPapService().querySign(WxSignQueryRequest.newBuilder().planId(Integer.valueOf(merchant.get("planId"))).contractCode(code).version("1.0").build());
      check(t + ".querycontract.byCode", contractId[0].equals(q.getContractId()), q.getContractId());
    });
    String outTradeNo = "WXJ" + t + (System.currentTimeMillis() % 100000000);
    step(t + ".pappayapply", () -> {
      WxWithholdResult w = pay.getWxEntrustPapService().withhold(WxWithholdRequest.newBuilder()
        .body("Snacks").outTradeNo(outTradeNo).totalFee(388).feeType("CNY").spbillCreateIp("127.0.0.1")
        .notifyUrl(receiverBase + deductedPath).tradeType("PAP").contractId(contractId[0]).attach("order-wxj").build());
      check(t + ".pappayapply", "SUCCESS".equals(w.getResultCode()), w.getResultCode());
    });
    step(t + ".notify.deduction", () -> {
      Received r = await(deductedPath);
      WxWithholdNotifyResult n = (WxWithholdNotifyResult) r.parsed;
      check(t + ".notify.deduction", r.refusal == null && "SUCCESS".equals(n.getTradeState()) && Integer.valueOf(388).equals(n.getTotalFee()) && outTradeNo.equals(n.getOutTradeNo()) && contractId[0].equals(n.getContractId()),
        r.refusal != null ? r.refusal : n.getTradeState() + " " + n.getTotalFee());
    });
    step(t + ".paporderquery", () -> {
      WxWithholdOrderQueryResult q = pay.getWxEntrustPapService().papOrderQuery(WxWithholdOrderQueryRequest.newBuilder().outTradeNo(outTradeNo).build());
      check(t + ".paporderquery", "SUCCESS".equals(q.getTradeState()) && Integer.valueOf(388).equals(q.getTotalFee()), q.getTradeState());
    });
    if (signType.equals("HMAC-SHA256")) {
      // deletecontract is MD5 only: the SDK's HMAC-SHA256 default is refused and nothing is terminated.
      step(t + ".deletecontract.hmacRefused", () -> {
        String o = outcome(() -> pay.getWxEntrustPapService().terminationContract(WxTerminatedContractRequest.newBuilder().contractId(contractId[0]).contractTerminationRemark("hmac").version("1.0").build()));
        check(t + ".deletecontract.hmacRefused", o.contains("签名错误"), o);
      });
    }
    step(t + ".deletecontract", () -> {
      WxTerminatedContractRequest req = WxTerminatedContractRequest.newBuilder().contractId(contractId[0]).contractTerminationRemark("cross check").version("1.0").build();
      req.setSignType("MD5");
      WxTerminationContractResult r = pay.getWxEntrustPapService().terminationContract(req);
      check(t + ".deletecontract", "SUCCESS".equals(r.getResultCode()) && contractId[0].equals(r.getContractId()), r.getResultCode());
    });
    step(t + ".notify.termination", () -> {
      Received r = await(terminatedPath);
      WxSignStatusNotifyResult n = (WxSignStatusNotifyResult) r.parsed;
      check(t + ".notify.termination", r.refusal == null && "DELETE".equals(n.getChangeType()) && contractId[0].equals(n.getContractId()) && Integer.valueOf(3).equals(n.getContractTerminationMode()),
        r.refusal != null ? r.refusal : n.getChangeType() + " mode " + n.getContractTerminationMode());
      check(t + ".notify.termination.notAtSigningUrl", inbox.get(signedPath).isEmpty(), "signing URL got " + inbox.get(signedPath).size() + " more");
    });
  }

  // ---- mini-program server APIs ------------------------------------------------------------------------

  private void miniProgram() {
    WxMaDefaultConfigImpl c = new WxMaDefaultConfigImpl();
    c.setAppid(merchant.get("appid"));
    c.setSecret(merchant.get("appSecret"));
    c.setApiHostUrl(base);
    c.useStableAccessToken(true);
    WxMaService ma = new WxMaServiceImpl();
    ma.setWxMaConfig(c);
    step("ma.stable_token", () -> {
      String token = ma.getAccessToken();
      check("ma.stable_token", token != null && !token.isEmpty() && token.equals(ma.getAccessToken()), "token of " + (token == null ? 0 : token.length()) + " chars, cached");
      String forced = ma.getAccessToken(true);
      check("ma.stable_token.forceRefresh", forced != null && !forced.equals(token), "a new token");
    });
    step("ma.jscode2session", () -> {
      String code = control("login-code", Map.of("openid", openid)).get("code").getAsString();
      WxMaJscode2SessionResult s = ma.getUserService().getSessionInfo(code);
      check("ma.jscode2session", openid.equals(s.getOpenid()) && s.getSessionKey() != null, s.getOpenid());
    });
    step("ma.getuserphonenumber", () -> {
      String code = control("phone-code", Map.of("openid", openid, "phone", "13800138000")).get("code").getAsString();
      WxMaPhoneNumberInfo p = ma.getUserService().getPhoneNumber(code);
      check("ma.getuserphonenumber", "13800138000".equals(p.getPurePhoneNumber()) && "86".equals(p.getCountryCode()), p.getPurePhoneNumber());
    });
    step("ma.getwxacodeunlimit", () -> {
      byte[] png = ma.getQrcodeService().createWxaCodeUnlimitBytes("WXJ-CAB-1.a", "pages/index/index", false, "release", 430, false, null, false);
      boolean isPng = png.length > 8 && (png[0] & 0xff) == 0x89 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G';
      check("ma.getwxacodeunlimit", isPng, png.length + " bytes");
    });
    step("ma.getwxacodeunlimit.longSceneRefused", () -> {
      String o = outcome(() -> ma.getQrcodeService().createWxaCodeUnlimitBytes("X".repeat(33), "pages/index/index", false, "release", 430, false, null, false));
      check("ma.getwxacodeunlimit.longSceneRefused", o.equals("40129"), o);
    });
    step("ma.subscribe", () -> {
      control("subscribe", Map.of("openid", openid, "templateId", "TPL_WXJ", "count", 1));
      WxMaSubscribeMessage msg = WxMaSubscribeMessage.builder().toUser(openid).templateId("TPL_WXJ").page("pages/index/index")
        .data(List.of(new WxMaSubscribeMessage.MsgData("thing1", "Cross check"))).build();
      ma.getMsgService().sendSubscribeMsg(msg);
      String second = outcome(() -> ma.getMsgService().sendSubscribeMsg(msg));
      check("ma.subscribe", second.equals("43101"), "second send: " + second);
    });
  }
}
