"""Demo data of the knowledge base for ``guanxi seed`` / ``make run``: the categories and
about fifteen articles of an industrial-equipment seller's service desk (the catalogue's
pumps, valves, drives and instruments) — signing in to the portal, installation, common
faults and error codes, maintenance — in Chinese, a few with their English translation,
most public, some for agents only, one with a version history. Everything goes through
the services (versions, search columns and audit rows included). Call it before the
portal's demo data, which searches these articles."""

from __future__ import annotations

import random

from guanxi.platform import permissions
from guanxi.platform.models import Action
from guanxi.sales.models import Product

from .models import Article
from .objects import ARTICLE
from .services import knowledge as services

# key, name, English name, position
CATEGORIES = (
    ("account", "账户与门户", "Account and portal", 1),
    ("install", "安装与调试", "Installation", 2),
    ("faults", "常见故障", "Troubleshooting", 3),
    ("maintenance", "保养与维保服务", "Maintenance", 4),
    ("internal", "客服内部规范", "Service desk (internal)", 9),
)

# key, category, product code, visibility, title, body
ARTICLES = (
    (
        "portal_signin",
        "account",
        "",
        "public",
        "如何登录客户服务门户（无需密码）",
        """门户不用密码，每次登录用一次性验证码：

1. 打开门户首页，点击 **登录**。
2. 输入您在我司登记的 **手机号** 或 **邮箱**。
3. 收到 6 位验证码后在 10 分钟内输入。

收不到验证码？

- 检查手机号或邮箱是否与合同上一致；
- 短信可能被拦截，请查看手机的“骚扰拦截”；
- 邮件请查看垃圾邮件箱。

仍无法登录，请致电客服热线 400-800-1234，核实身份后我们会更新您的联系方式。""",
    ),
    (
        "password_reset",
        "account",
        "",
        "public",
        "忘记设备管理密码怎么办",
        """变频器、触摸屏的 **管理密码** 忘记时，不要反复尝试（连续 5 次错误会锁定 30 分钟）。

- 触摸屏 HMI-10：在开机画面长按右上角 5 秒，进入恢复模式，用设备铭牌上的序列号重置密码。
- 变频器：管理密码只能由服务工程师重置。请在门户提交 **请求** 类工单，写明设备序列号，并上传铭牌照片。

重置后请立即修改为新密码，并妥善保管。""",
    ),
    (
        "pump_install",
        "install",
        "PUMP-IS50",
        "public",
        "单级离心泵安装步骤",
        """## 安装前
- 核对铭牌：流量、扬程、电压与订单一致；
- 基础应平整，地脚螺栓预埋到位。

## 安装
1. 泵与电机找正，联轴器径向偏差不超过 0.1 mm；
2. 进口管路尽量短，避免向上凸起的弯头，以免积气；
3. 进出口管路要有独立支架，**不得让泵承受管路重量**；
4. 电机接线后先点动，确认转向与泵壳箭头一致。

## 首次启动
灌泵排气后，关闭出口阀启动，再慢慢打开出口阀到工作点。""",
    ),
    (
        "vfd_install",
        "install",
        "VFD-22",
        "public",
        "变频器接线与参数设置入门",
        """1. 断电 10 分钟以上再接线（直流母线电容放电）。
2. 主回路：R/S/T 接电源，U/V/W 接电机，**切勿接反**，否则上电即损坏。
3. 接地线截面不小于电源线的一半。
4. 上电后依次设置：电机额定功率、电压、电流、频率、转速（见电机铭牌），再做一次静态自学习。

常见错误：把电源接到 U/V/W；电机线过长（超过 50 米需加输出电抗器）。""",
    ),
    (
        "vfd_errors",
        "faults",
        "VFD-22",
        "public",
        "变频器常见故障代码 OC、OV、OH 的处理",
        """- **OC 过流**：加速时间太短或负载卡死。把加速时间加长到 10 秒以上，检查泵是否被异物卡住。
- **OV 过压**：减速太快，电机回馈能量。加长减速时间，或加装制动电阻。
- **OH 过热**：散热风扇停转或柜内温度超过 40 °C。清理风道，检查风扇。
- **LU 欠压**：电网电压低或缺相，请电工检查进线。

同一故障一天内出现 3 次以上，请停机并提交 **故障** 工单。""",
    ),
    (
        "pump_noise",
        "faults",
        "PUMP-IS80",
        "public",
        "水泵噪音大、振动大的原因",
        """多数噪音和振动来自安装和工况，而不是泵本身：

- **汽蚀**：进口压力太低，听起来像泵里有砂石。降低安装高度或清理进口过滤器。
- **对中不良**：联轴器偏差大，运行后轴承发热。重新找正。
- **地脚松动**：紧固地脚螺栓。
- **在很小流量下运行**：出口阀开度太小，请开大到额定工作点附近。

以上都排除后仍有异响，可能是轴承损坏，请提交维修工单。""",
    ),
    (
        "seal_leak",
        "faults",
        "SEAL-KIT",
        "public",
        "机械密封漏水怎么办",
        """新泵运行最初几小时有少量滴漏属正常磨合。以下情况需要更换密封：

- 每分钟超过 3 滴，或连续成线流出；
- 泵曾经干转（无水运行），密封面已烧伤。

更换时请使用原厂 **机械密封备件包**，安装前清洁轴套，密封面不可用手触摸。""",
    ),
    (
        "flowmeter",
        "faults",
        "FLOW-EM",
        "public",
        "电磁流量计读数跳动或为零",
        """- 管道未充满：流量计应装在管路低点或垂直上升段；
- 接地不良：传感器两端的接地环必须可靠接地；
- 介质电导率太低（如纯水）：电磁流量计无法测量，请换用其他原理的仪表；
- 附近有大功率变频器：信号线与动力线分开走线，使用屏蔽电缆。""",
    ),
    (
        "maintenance_contract",
        "maintenance",
        "SVC-YEAR",
        "public",
        "年度维保服务包含哪些内容",
        """年度维保服务包括：

- 每年 2 次上门巡检（泵、阀门、控制柜）；
- 易损件（密封、轴承润滑脂）免费更换；
- 故障 **4 小时** 响应、**24 小时** 内到场（A 类客户 8 小时到场）；
- 远程技术支持不限次数。

不包括：人为损坏、超出设计工况运行造成的损坏。""",
    ),
    (
        "safety_valve",
        "maintenance",
        "VALVE-SAFE",
        "public",
        "安全阀多久校验一次",
        """按照特种设备安全规定，安全阀 **每年至少校验一次**，由有资质的检验机构进行。
校验合格后加铅封，不得自行调整整定压力。我司维保服务可代为联系校验。""",
    ),
    (
        "repair_request",
        "account",
        "",
        "public",
        "如何提交维修申请并查看进度",
        """1. 登录客户服务门户；
2. 点击 **提交工单**，类型选“维修”，写明设备型号、序列号和故障现象，最好附上照片；
3. 提交后您会收到带 **工单号** 的短信或邮件；
4. 在“我的工单”里可以随时查看进度、补充说明。

紧急故障请直接拨打 400-800-1234。""",
    ),
    (
        "complaint_handling",
        "internal",
        "",
        "internal",
        "投诉处理规范（内部）",
        """**只给客服和技术人员看，不对客户公开。**

1. 接到投诉 30 分钟内首次联系客户，先道歉、复述问题；
2. 工单类型选“投诉”，优先级至少为“高”；
3. 当天内给出处理方案；涉及赔偿的，报客服主管审批；
4. 结案前必须电话回访，确认客户满意。

投诉未结案期间，市场部不会给该客户发营销信息。""",
    ),
    (
        "vfd_internal",
        "internal",
        "VFD-22",
        "internal",
        "变频器现场排障要点（技术内部）",
        """- 上门先拍照记录参数，再恢复出厂设置；
- 过流故障 80% 是加速时间或电机参数错误；
- IGBT 模块损坏必须整机返厂，不要现场更换；
- 故障记录可在参数组 P9 查看最近 5 次。""",
    ),
)

# key, title, body (English translations of some of the articles above)
TRANSLATIONS = (
    (
        "portal_signin",
        "How to sign in to the customer portal (no password)",
        """The portal has no password: you sign in with a one-time code each time.

1. Open the portal and click **Sign in**.
2. Enter the **mobile number** or **e-mail address** registered with us.
3. Enter the 6-digit code within 10 minutes.

No code? Check that the number or address matches your contract, and look in your spam
folder. Still stuck: call 400-800-1234.""",
    ),
    (
        "vfd_errors",
        "Drive fault codes OC, OV and OH",
        """- **OC overcurrent**: acceleration too fast or the load is jammed. Lengthen the
  acceleration time to 10 s or more; check the pump for blockages.
- **OV overvoltage**: deceleration too fast. Lengthen it, or add a braking resistor.
- **OH overheating**: the fan has stopped or the cabinet is above 40 °C.

If a fault occurs three times in a day, stop the drive and file a fault case.""",
    ),
    (
        "pump_install",
        "Installing a single-stage centrifugal pump",
        """1. Align pump and motor (coupling offset at most 0.1 mm).
2. Keep the suction line short, without high points where air collects.
3. Support the pipes separately: **the pump must not carry their weight**.
4. Jog the motor to check the direction of rotation before the first start.""",
    ),
)


def _editor(users):
    for user in users:
        if permissions.can(user, ARTICLE, Action.CREATE) and permissions.can(
            user, ARTICLE, Action.UPDATE
        ):
            return user
    return None


def knowledge_demo(workspace, actor, rng: random.Random | None = None) -> list[Article]:
    """The demo knowledge base, written by ``actor`` (who may write articles). Once: a
    workspace that has articles already gets nothing more."""
    if Article.objects.in_workspace(workspace).exists():
        return []
    rng = rng or random.Random(20261202)
    categories = {
        key: services.category_create(
            actor=actor, workspace=workspace, name=name, name_en=name_en, position=position
        )
        for key, name, name_en, position in CATEGORIES
    }
    products = dict(Product.objects.in_workspace(workspace).values_list("code", "pk"))
    made: dict[str, Article] = {}
    for key, category, code, visibility, title, body in ARTICLES:
        made[key] = services.article_create(
            actor=actor,
            workspace=workspace,
            title=title,
            body=body,
            category_id=categories[category].pk,
            product_id=products.get(code),
            visibility=visibility,
            publish=True,
        )
    for key, title, body in TRANSLATIONS:
        original = made[key]
        made[f"{key}_en"] = services.article_create(
            actor=actor,
            workspace=workspace,
            title=title,
            body=body,
            language="en",
            category_id=original.category_id,
            product_id=original.product_id,
            visibility=original.visibility,
            translation_of_id=original.pk,
            publish=True,
        )
    # A history to look at: the fault codes gained a line after a call.
    errors = made["vfd_errors"]
    services.article_update(
        actor=actor,
        workspace=workspace,
        article_id=errors.pk,
        body=errors.body.replace(
            "\n\n同一故障",
            "\n- **GF 接地故障**：电机或电缆绝缘损坏，请停机并联系服务工程师。\n\n同一故障",
        ),
        note="补充 GF 接地故障",
    )
    # An article still being written.
    services.article_create(
        actor=actor,
        workspace=workspace,
        title="雷达物位计安装角度（草稿）",
        body="天线应垂直于液面，离罐壁至少 30 厘米……",
        category_id=categories["install"].pk,
        product_id=products.get("LEVEL-RD"),
        visibility="public",
    )
    # Readers' counters, so the pages have something to show.
    for article in made.values():
        views = rng.randint(5, 400)
        Article.objects.in_workspace(workspace).filter(pk=article.pk).update(
            views=views,
            helpful_yes=rng.randint(0, views // 5),
            helpful_no=rng.randint(0, views // 25),
        )
    return list(made.values())


def seed(*, workspace, users, rng: random.Random | None = None) -> None:
    """``demo.py``'s entry point: the knowledge base written by the first user who may
    write articles (nothing when none may)."""
    actor = _editor(users)
    if actor is not None:
        knowledge_demo(workspace, actor, rng)
