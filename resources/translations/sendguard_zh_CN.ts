<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>ActivityWindow</name>
    <message>
        <source>Recent activity — SendGuard</source>
        <translation>最近活动 — SendGuard</translation>
    </message>
    <message>
        <source>Search by file, group, label or decision</source>
        <translation>按文件、群组、密级或处理结果搜索</translation>
    </message>
    <message>
        <source>Search recent activity</source>
        <translation>搜索最近活动</translation>
    </message>
    <message>
        <source>Show the sync client&apos;s downloads</source>
        <translation>显示同步客户端下载的文件</translation>
    </message>
    <message>
        <source>Files the group sent: SendGuard leaves them where they are and asks nothing.</source>
        <translation>群组发来的文件：SendGuard 不移动它们，也不询问。</translation>
    </message>
    <message>
        <source>When</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>Group</source>
        <translation>群组</translation>
    </message>
    <message>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>Level</source>
        <translation>密级</translation>
    </message>
    <message>
        <source>Decision</source>
        <translation>处理结果</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>理由</translation>
    </message>
    <message>
        <source>Arrival</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Recent activity</source>
        <translation>最近活动</translation>
    </message>
    <message>
        <source>shared by you</source>
        <translation>由你共享</translation>
    </message>
    <message>
        <source>edited by you</source>
        <translation>由你编辑</translation>
    </message>
    <message>
        <source>from the group</source>
        <translation>来自群组</translation>
    </message>
    <message>
        <source>SendGuard&apos;s own</source>
        <translation>SendGuard 自身的操作</translation>
    </message>
    <message>
        <source>shared after confirmation</source>
        <translation>确认后已分享</translation>
    </message>
    <message>
        <source>passed</source>
        <translation>已放行</translation>
    </message>
    <message>
        <source>not shared</source>
        <translation>未分享</translation>
    </message>
    <message>
        <source>held</source>
        <translation>已暂扣</translation>
    </message>
    <message>
        <source>being held</source>
        <translation>正在暂扣</translation>
    </message>
    <message>
        <source>being shared</source>
        <translation>正在分享</translation>
    </message>
    <message>
        <source>being returned</source>
        <translation>正在退回</translation>
    </message>
    <message>
        <source>gone before it was held</source>
        <translation>暂扣前已消失</translation>
    </message>
    <message>
        <source>Recent activity cannot be read: {error}</source>
        <translation>无法读取最近活动：{error}</translation>
    </message>
    <message>
        <source>left in place</source>
        <translation>留在原处</translation>
    </message>
</context>
<context>
    <name>ConfirmDialog</name>
    <message>
        <source>the page header</source>
        <translation>页眉</translation>
    </message>
    <message>
        <source>the page footer</source>
        <translation>页脚</translation>
    </message>
    <message>
        <source>the sensitivity label (Microsoft Purview)</source>
        <extracomment>Keys pressed this soon after the dialog appears (or gets the keyboard back) are ignored: nobody has read it yet, so the key was meant for the window they were typing in — an Enter that sends a chat message, a space between words — and the dialog took the focus under their fingers. About three times the time it takes to react to something that appears (~250 ms), so a keystroke already on its way is caught; a key held down is refused however long it is held (`KeyGate`), so this need not be longer. Short enough that a deliberate Esc a moment later is not lost. Never longer than the arm delay: the keys work once the share button does (`ConfirmDialog`). Where the label was found, in words a person understands.</extracomment>
        <translation>敏感度标签（Microsoft Purview）</translation>
    </message>
    <message>
        <source>the document&apos;s properties</source>
        <translation>文档属性</translation>
    </message>
    <message>
        <source>the PDF&apos;s properties</source>
        <translation>PDF 属性</translation>
    </message>
    <message>
        <source>the file&apos;s metadata (XMP)</source>
        <translation>文件元数据（XMP）</translation>
    </message>
    <message>
        <source>the e-mail&apos;s subject</source>
        <translation>邮件主题</translation>
    </message>
    <message>
        <source>the file name</source>
        <translation>文件名</translation>
    </message>
    <message>
        <source>the file&apos;s tags</source>
        <translation>文件标记</translation>
    </message>
    <message>
        <source>the file</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>The policy cannot be used: {error}</source>
        <translation>策略无法使用：{error}</translation>
    </message>
    <message>
        <source>unknown level</source>
        <translation>未知密级</translation>
    </message>
    <message>
        <source>{level} — could not be read: {reason}</source>
        <translation>{level} — 无法读取：{reason}</translation>
    </message>
    <message>
        <source>{level} — {label} in {where}</source>
        <translation>{level} — {label}（位于{where}）</translation>
    </message>
    <message>
        <source>marking {marking} ({value})</source>
        <translation>密级标志 {marking}（{value}）</translation>
    </message>
    <message>
        <source>marking {marking}</source>
        <translation>密级标志 {marking}</translation>
    </message>
    <message>
        <source>label</source>
        <translation>未命名</translation>
    </message>
    <message>
        <source>MIP {label} ({guid})</source>
        <translation>敏感度标签“{label}”（{guid}）</translation>
    </message>
    <message>
        <source>file-tag {value}</source>
        <translation>文件标记 {value}</translation>
    </message>
    <message>
        <source>file-name {value}</source>
        <translation>文件名标记 {value}</translation>
    </message>
    <message>
        <source>unknown type</source>
        <translation>未知类型</translation>
    </message>
    <message>
        <source>&quot;{group}&quot;</source>
        <translation>“{group}”</translation>
    </message>
    <message>
        <source>{first} and {second}</source>
        <translation>{first}和{second}</translation>
    </message>
    <message>
        <source>You usually share {level} documents with {groups}. This is &quot;{group}&quot;.</source>
        <translation>您通常把 {level} 文件分享给{groups}。这里是“{group}”。</translation>
    </message>
    <message>
        <source>less than an hour ago</source>
        <translation>不到一小时前</translation>
    </message>
    <message>
        <source>an hour ago</source>
        <translation>约一小时前</translation>
    </message>
    <message>
        <source>{count} hours ago</source>
        <translation>{count} 小时前</translation>
    </message>
    <message>
        <source>{count} days ago</source>
        <translation>{count} 天前</translation>
    </message>
    <message>
        <source>A file named &quot;{name}&quot; went to &quot;{other}&quot; {ago}. This is &quot;{group}&quot;.</source>
        <translation>名为“{name}”的文件{ago}分享给了“{other}”。这里是“{group}”。</translation>
    </message>
    <message>
        <source>Share with &quot;{group}&quot;?</source>
        <extracomment>A release and a press of a key this close together are one auto-repeat, marked or not: X11 sends each repeat as a release and a press with the same time, and Qt marks them as a repeat only when it happens to read both at once. No finger lifts a key and presses it again within a few milliseconds. Keys whose latest press was let through: only these may repeat or be released. Keys whose latest press or release was held back: None while down, else the time of that release (0 where the platform gives no times). The answers, once: emitted when the dialog closes, whatever closed it.</extracomment>
        <translation>分享给“{group}”？</translation>
    </message>
    <message>
        <source>Group colour</source>
        <translation>群组颜色</translation>
    </message>
    <message>
        <source>includes people outside your organisation</source>
        <translation>包含贵单位以外的人员</translation>
    </message>
    <message>
        <source>This file has a label above what this group is cleared for.</source>
        <translation>此文件的密级高于此群组的许可密级。</translation>
    </message>
    <message>
        <source>These {count} files have labels above what this group is cleared for. Choose for each file.</source>
        <translation>这 {count} 个文件的密级高于此群组的许可密级。请逐个选择。</translation>
    </message>
    <message>
        <source>Type the group&apos;s name to share</source>
        <translation>输入群组名称以分享</translation>
    </message>
    <message>
        <source>the top of the page</source>
        <translation>页面顶部</translation>
    </message>
    <message>
        <source>the bottom of the page</source>
        <translation>页面底部</translation>
    </message>
    <message>
        <source>the first lines</source>
        <translation>开头几行</translation>
    </message>
    <message>
        <source>the last lines</source>
        <translation>末尾几行</translation>
    </message>
    <message>
        <source>the scanned page</source>
        <translation>扫描页面</translation>
    </message>
    <message>
        <source>no label of its own</source>
        <translation>本身没有密级标签</translation>
    </message>
    <message>
        <source>{forwarded} — {label}</source>
        <translation>{forwarded} — {label}</translation>
    </message>
    <message>
        <source>Members: {count}</source>
        <translation>成员：{count} 人</translation>
    </message>
    <message>
        <source>To share, type the group&apos;s name: &quot;{group}&quot;</source>
        <translation>如需分享，请输入群组名称：“{group}”</translation>
    </message>
    <message>
        <source>Why is this the right group?</source>
        <translation>为什么应分享给此群组？</translation>
    </message>
    <message>
        <source>Reason (kept in the audit record):</source>
        <translation>理由（将保存在审计记录中）：</translation>
    </message>
    <message>
        <source>Take a moment: sharing becomes possible shortly.</source>
        <translation>请稍作考虑：稍后即可分享。</translation>
    </message>
    <message>
        <source>Don&apos;t share</source>
        <translation>不分享</translation>
    </message>
    <message>
        <source>Share with &quot;{group}&quot;</source>
        <translation>分享给“{group}”</translation>
    </message>
    <message>
        <source>Share chosen files with &quot;{group}&quot;</source>
        <translation>将所选文件分享给“{group}”</translation>
    </message>
</context>
<context>
    <name>Controller</name>
    <message>
        <source>SendGuard is not guarding</source>
        <translation>SendGuard 防护未运行</translation>
    </message>
    <message>
        <source>The guard could not start: {error}</source>
        <translation>防护无法启动：{error}</translation>
    </message>
    <message>
        <source>Paused for {minutes} minutes: {reason}</source>
        <translation>已暂停 {minutes} 分钟：{reason}</translation>
    </message>
    <message>
        <source>Guarding again</source>
        <translation>已恢复防护</translation>
    </message>
    <message>
        <source>The policy cannot be used, so every new file is held: {error}</source>
        <translation>策略无法使用，所有新文件都将被暂扣：{error}</translation>
    </message>
    <message>
        <source>The audit trail cannot be written: {error}</source>
        <translation>无法写入审计记录：{error}</translation>
    </message>
    <message>
        <source>Needs attention: {reason}</source>
        <translation>需要处理：{reason}</translation>
    </message>
    <message>
        <source>Paused until {time}</source>
        <translation>暂停至 {time}</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>正在启动…</translation>
    </message>
    <message>
        <source>Files waiting for you: {count}</source>
        <translation>等待您处理的文件：{count} 个</translation>
    </message>
    <message>
        <source>Watching {groups} groups, {folders} folders</source>
        <translation>正在监视 {groups} 个群组、{folders} 个文件夹</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <source>Held {file} ({level}) on its way to &quot;{group}&quot;</source>
        <translation>已暂扣发往“{group}”的 {file}（{level}）</translation>
    </message>
    <message>
        <source>Held before sharing with &quot;{group}&quot;</source>
        <translation>分享给“{group}”前已暂扣</translation>
    </message>
    <message>
        <source>{file} is {level}. Decide whether it should go there.</source>
        <translation>{file} 的密级为 {level}。请决定是否应发往该群组。</translation>
    </message>
    <message>
        <source>The folder of the group &quot;{group}&quot; does not exist: {folder} (named in {where}). Nothing there is guarded until it exists. Fix: correct the path in the policy, or create the folder where your sync client keeps the group.</source>
        <translation>群组“{group}”的文件夹不存在：{folder}（见{where}）。在它存在之前，其中的文件不受防护。解决方法：在策略中更正路径，或在同步客户端存放该群组的位置创建此文件夹。</translation>
    </message>
    <message>
        <source>The outbox of the group &quot;{group}&quot; does not exist: {folder} (named in {where}). Nothing there is guarded until it exists. Fix: correct the path in the policy, or create the folder where your sync client keeps the group.</source>
        <translation>群组“{group}”的发件箱不存在：{folder}（见{where}）。在它存在之前，其中的文件不受防护。解决方法：在策略中更正路径，或在同步客户端存放该群组的位置创建此文件夹。</translation>
    </message>
    <message>
        <source>The policy cannot be used</source>
        <extracomment>title, message, severity (&quot;info&quot; or &quot;warning&quot;) A labelled edit stays in the group folder, and the version the group had is kept: the path, that version, and the sentence that says so. Every path, from the options as given (None: the default) by the function the commands use too: the same &quot;Not shared&quot; folder, the same user settings file. None: the OS keyring the audit adapter chooses (tests pass an in-memory one). Set by the app: tells whether a confirmation dialog is on screen. The audit trail, opened with the first start (its keyring may be slow to answer). The data folder&apos;s one-writer lock, and the control socket through which `sendguard held share/return` (and scripts) decide: from the first start to stop.</extracomment>
        <translation>策略无法使用</translation>
    </message>
    <message>
        <source>The policy is valid again</source>
        <translation>策略已恢复有效</translation>
    </message>
    <message>
        <source>Guarding as it says.</source>
        <translation>已按策略进行防护。</translation>
    </message>
    <message>
        <source>The policy changed and was read again</source>
        <translation>策略已更改，已重新读取</translation>
    </message>
    <message>
        <source>The policy cannot be used: {error} Until it is fixed, the last valid policy guards, and every new file is held in: {folders}</source>
        <translation>策略无法使用：{error} 在修复之前，由最后一份有效的策略进行防护，以下文件夹中的所有新文件都将被暂扣：{folders}</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>The command line cannot reach SendGuard: {error}</source>
        <translation>命令行无法连接到 SendGuard：{error}</translation>
    </message>
    <message>
        <source>Held {file} on its way to &quot;{group}&quot;: {reason}</source>
        <translation>已暂扣发往“{group}”的 {file}：{reason}</translation>
    </message>
    <message>
        <source>{file}: {reason}. Decide whether it should go there.</source>
        <translation>{file}：{reason}。请决定是否应发往该群组。</translation>
    </message>
    <message>
        <source>Shared {file} with &quot;{group}&quot; after your confirmation</source>
        <translation>经您确认，已将 {file} 分享给“{group}”</translation>
    </message>
    <message>
        <source>Shared</source>
        <translation>已分享</translation>
    </message>
    <message>
        <source>{file} passed into &quot;{group}&quot;</source>
        <translation>{file} 已放行至“{group}”</translation>
    </message>
    <message>
        <source>Not shared with &quot;{group}&quot;: {file} is in {folder}</source>
        <translation>未分享给“{group}”：{file} 位于 {folder}</translation>
    </message>
    <message>
        <source>Not shared</source>
        <translation>未分享</translation>
    </message>
    <message>
        <source>{file} was shared: {reason}. The policy asks only to tell you.</source>
        <translation>{file} 已分享：{reason}。策略仅要求通知您。</translation>
    </message>
    <message>
        <source>{file} ({level}) was shared; the policy asks only to tell you.</source>
        <translation>{file}（{level}）已分享；策略仅要求通知您。</translation>
    </message>
    <message>
        <source>{file} in &quot;{group}&quot; was changed and now carries {level}, above what the group is cleared for ({clearance}). It was not moved: the group already has it.</source>
        <translation>“{group}”中的 {file} 已被修改，现在带有 {level}，高于该群组的许可级别（{clearance}）。文件未被移走：群组已经有这个文件。</translation>
    </message>
    <message>
        <source>{file} in &quot;{group}&quot; carries {level}, above what the group is cleared for ({clearance}), and SendGuard cannot tell who put it there, so it was not moved.</source>
        <translation>“{group}”中的 {file} 带有 {level}，高于该群组的许可级别（{clearance}）；SendGuard 无法判断是谁放进去的，因此未移走它。</translation>
    </message>
    <message>
        <source>The version the group had is kept in {path}.</source>
        <translation>群组原有的版本保存在 {path}。</translation>
    </message>
    <message>
        <source>Check this file</source>
        <translation>请检查此文件</translation>
    </message>
    <message>
        <source>Not put back</source>
        <translation>未恢复</translation>
    </message>
    <message>
        <source>{file} was left as it is: {error}</source>
        <translation>{file} 保持原样：{error}</translation>
    </message>
    <message>
        <source>Put back</source>
        <translation>已恢复</translation>
    </message>
    <message>
        <source>The group&apos;s earlier version of {file} is back; your changed file is in {folder}.</source>
        <translation>{file} 已恢复为群组原有的版本；你修改过的文件在 {folder}。</translation>
    </message>
    <message>
        <source>SendGuard</source>
        <translation>SendGuard</translation>
    </message>
    <message>
        <source>Files are waiting</source>
        <translation>有文件待处理</translation>
    </message>
    <message>
        <source>Files waiting for your decision: {count}.</source>
        <translation>等待您决定的文件：{count} 个。</translation>
    </message>
    <message>
        <source>system</source>
        <translation>系统</translation>
    </message>
    <message>
        <source>user</source>
        <translation>用户</translation>
    </message>
    <message>
        <source>missing</source>
        <translation>不存在</translation>
    </message>
    <message>
        <source>loaded</source>
        <translation>已加载</translation>
    </message>
    <message>
        <source>invalid</source>
        <translation>无效</translation>
    </message>
    <message>
        <source>{folder} — files: {count}, cleared for {level}</source>
        <translation>{folder} — 文件：{count} 个，许可密级 {level}</translation>
    </message>
    <message>
        <source>{folder} — files: {error}, cleared for {level}</source>
        <translation>{folder} — 文件：{error}，许可密级 {level}</translation>
    </message>
    <message>
        <source>the folder does not exist</source>
        <translation>文件夹不存在</translation>
    </message>
    <message>
        <source>Journal</source>
        <translation>日志</translation>
    </message>
    <message>
        <source>Hold area</source>
        <translation>暂扣区</translation>
    </message>
    <message>
        <source>Audit trail</source>
        <translation>审计记录</translation>
    </message>
    <message>
        <source>Last good policy copies</source>
        <translation>最后有效策略的副本</translation>
    </message>
    <message>
        <source>The &quot;Not shared&quot; folder</source>
        <translation>“Not shared”（未分享）文件夹</translation>
    </message>
    <message>
        <source>User settings file</source>
        <translation>用户设置文件</translation>
    </message>
    <message>
        <source>System policy file</source>
        <translation>系统策略文件</translation>
    </message>
    <message>
        <source>Audit</source>
        <translation>审计</translation>
    </message>
    <message>
        <source>Audit records are sealed with a key kept in the system keyring.</source>
        <translation>审计记录已使用系统密钥环中保存的密钥签封。</translation>
    </message>
    <message>
        <source>Recent event</source>
        <translation>最近事件</translation>
    </message>
    <message>
        <source>Python</source>
        <translation>Python</translation>
    </message>
    <message>
        <source>Qt / PySide6</source>
        <translation>Qt / PySide6</translation>
    </message>
    <message>
        <source>System</source>
        <translation>系统</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Policy hash (SHA-256)</source>
        <translation>策略哈希（SHA-256）</translation>
    </message>
    <message>
        <source>Policy source ({role})</source>
        <translation>策略来源（{role}）</translation>
    </message>
    <message>
        <source>Policy error</source>
        <translation>策略错误</translation>
    </message>
    <message>
        <source>Demo groups</source>
        <translation>演示群组</translation>
    </message>
    <message>
        <source>Watched folders</source>
        <translation>监视的文件夹</translation>
    </message>
    <message>
        <source>Group &quot;{group}&quot;</source>
        <translation>群组“{group}”</translation>
    </message>
    <message>
        <source>Held files</source>
        <translation>已暂扣的文件</translation>
    </message>
    <message>
        <source>Data folder</source>
        <translation>数据文件夹</translation>
    </message>
    <message>
        <source>Keyring backend</source>
        <translation>密钥环后端</translation>
    </message>
    <message>
        <source>Audit forwarding</source>
        <translation>审计转发</translation>
    </message>
    <message>
        <source>not open yet</source>
        <translation>尚未打开</translation>
    </message>
    <message>
        <source>System tray</source>
        <translation>系统托盘</translation>
    </message>
    <message>
        <source>available</source>
        <translation>可用</translation>
    </message>
    <message>
        <source>not available</source>
        <translation>不可用</translation>
    </message>
</context>
<context>
    <name>DiagnosticsWindow</name>
    <message>
        <source>Diagnostics — SendGuard</source>
        <translation>诊断信息 — SendGuard</translation>
    </message>
    <message>
        <source>Diagnostics</source>
        <translation>诊断信息</translation>
    </message>
    <message>
        <source>Copy to clipboard</source>
        <translation>复制到剪贴板</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
</context>
<context>
    <name>FirstRunWindow</name>
    <message>
        <source>Getting started — SendGuard</source>
        <extracomment>The example &quot;Try it&quot; copies. Embedded rather than read from resources/examples, which is not installed with the package; the same marking as resources/examples/incident-report.txt. The groups listed by name; more are counted (Groups and policy… lists them all). None: the example could not be scanned here (it is then tried anyway). The reading width, in average characters of the font. &quot;Try it&quot; put the example here. The user dismissed the window (Got it, Esc, or its close button).</extracomment>
        <translation>使用入门 — SendGuard</translation>
    </message>
    <message>
        <source>Welcome to SendGuard</source>
        <extracomment>The groups&apos; headlines (&quot;Family&quot; — cleared for PUBLIC), in policy order.</extracomment>
        <translation>欢迎使用 SendGuard</translation>
    </message>
    <message>
        <source>When a labelled file is put into a group folder and the group is cleared below its label, SendGuard holds the file and asks you before the group gets it. Unlabelled files pass without a question.</source>
        <translation>当带密级标签的文件被放入群组文件夹，而该群组的许可密级低于文件的密级时，SendGuard 会暂扣该文件，并在群组收到之前询问您。没有密级标签的文件会直接放行，不会询问。</translation>
    </message>
    <message>
        <source>What is watched</source>
        <translation>监视范围</translation>
    </message>
    <message>
        <source>The policy cannot be used, so every new file is held: {error}</source>
        <translation>策略无法使用，所有新文件都将被暂扣：{error}</translation>
    </message>
    <message>
        <source>No group folders were found, so SendGuard made two demo group folders in {folder} to try it on:</source>
        <translation>未找到任何群组文件夹，SendGuard 已在 {folder} 中创建了两个演示群组文件夹供您试用：</translation>
    </message>
    <message>
        <source>The folders of these groups:</source>
        <translation>以下群组的文件夹：</translation>
    </message>
    <message>
        <source>No group folder is watched yet: SendGuard found no synced group folders, and the policy names none.</source>
        <translation>尚未监视任何群组文件夹：SendGuard 没有找到同步的群组文件夹，策略中也没有指定。</translation>
    </message>
    <message>
        <source>…and {count} more groups: Groups and policy… lists them all.</source>
        <translation>……另有 {count} 个群组：“群组与策略…”中列出了全部群组。</translation>
    </message>
    <message>
        <source>Where held files wait</source>
        <translation>暂扣的文件在哪里等待</translation>
    </message>
    <message>
        <source>A held file waits in {folder}, a private folder only you can open, until you decide: share it with the group, or not. It never moves on by itself, not after a while and not when you quit. Held files… lists what is waiting.</source>
        <translation>暂扣的文件存放在 {folder} 中，这是一个只有您能打开的私人文件夹，文件会在那里等待您作出决定：分享给群组，或不分享。它绝不会自行移走，过一段时间不会，您退出时也不会。“已暂扣的文件…”列出了正在等待的文件。</translation>
    </message>
    <message>
        <source>Files you don&apos;t share</source>
        <translation>您不分享的文件</translation>
    </message>
    <message>
        <source>A file you decide not to share goes to {folder}, into a folder named after the group, where you can find it again; Open the &quot;Not shared&quot; folder, in SendGuard&apos;s menu, takes you there.</source>
        <translation>您决定不分享的文件会移到 {folder} 中以群组命名的文件夹里，您可以在那里找回它；SendGuard 菜单中的“打开‘Not shared’（未分享）文件夹”可带您前往。</translation>
    </message>
    <message>
        <source>Try it</source>
        <translation>试一试</translation>
    </message>
    <message>
        <source>Got it</source>
        <translation>知道了</translation>
    </message>
    <message>
        <source>Group colour</source>
        <translation>群组颜色</translation>
    </message>
    <message>
        <source>&quot;{group}&quot; — cleared for {level}</source>
        <translation>“{group}” — 许可密级 {level}</translation>
    </message>
    <message>
        <source>includes people outside your organisation</source>
        <translation>包含贵单位以外的人员</translation>
    </message>
    <message>
        <source>Try it needs a group folder to copy an example into, and there is none yet. Once SendGuard watches a group folder, copy a file marked TLP:AMBER or CONFIDENTIAL into it to see what happens.</source>
        <translation>“试一试”需要一个群组文件夹来放入示例文件，但目前还没有。SendGuard 开始监视群组文件夹后，将标有 TLP:AMBER 或 CONFIDENTIAL 的文件复制进去，即可查看效果。</translation>
    </message>
    <message>
        <source>Every group here is cleared for the example, labelled TLP:AMBER ({level}): in &quot;{group}&quot; too, it would pass without a question, so there is nothing to try.</source>
        <translation>这里每个群组的许可密级都足以接收这个标有 TLP:AMBER（{level}）的示例：即使在“{group}”中，它也会直接放行，不会询问，因此没有可试的。</translation>
    </message>
    <message>
        <source>Try it copies an example file labelled {level} into the folder of &quot;{group}&quot; ({folder}), cleared for {clearance}. SendGuard holds it and asks you: choose &quot;Don&apos;t share&quot; and it goes to the &quot;Not shared&quot; folder.</source>
        <translation>“试一试”会将一个标有 {level} 的示例文件复制到“{group}”的文件夹（{folder}）中，该群组的许可密级为 {clearance}。SendGuard 会暂扣它并询问您：选择“不分享”，它就会移到“Not shared”（未分享）文件夹。</translation>
    </message>
    <message>
        <source>This is a real group folder: if you choose to share, its members get the example.</source>
        <translation>这是一个真实的群组文件夹：如果您选择分享，其成员将收到这个示例文件。</translation>
    </message>
    <message>
        <source>SendGuard is not guarding right now (paused, starting, or it could not start), so the example would not be held: try it once it is watching.</source>
        <translation>SendGuard 目前没有在防护（已暂停、正在启动或无法启动），因此示例文件不会被暂扣：请在它开始监视后再试。</translation>
    </message>
    <message>
        <source>Try it: copy an example into &quot;{group}&quot;</source>
        <translation>试一试：将示例文件复制到“{group}”</translation>
    </message>
    <message>
        <source>The example could not be copied: {error}</source>
        <translation>无法复制示例文件：{error}</translation>
    </message>
    <message>
        <source>Copied {file} into &quot;{group}&quot;. SendGuard asks you about it in a moment.</source>
        <translation>已将 {file} 复制到“{group}”。SendGuard 稍后会就此询问您。</translation>
    </message>
</context>
<context>
    <name>GroupsWindow</name>
    <message>
        <source>Groups and policy — SendGuard</source>
        <translation>群组与策略 — SendGuard</translation>
    </message>
    <message>
        <source>Your organisation&apos;s policy is in force: {path}</source>
        <translation>贵单位的策略正在生效：{path}</translation>
    </message>
    <message>
        <source>No groups were found, so SendGuard made two demo group folders in {folder}. Copy a labelled file into one to see what happens.</source>
        <translation>未找到任何群组，SendGuard 已在 {folder} 中创建了两个演示群组文件夹。将带密级标签的文件复制到其中一个，即可查看效果。</translation>
    </message>
    <message>
        <source>No organisation policy is installed; built-in settings apply.</source>
        <translation>未安装单位策略，将使用内置设置。</translation>
    </message>
    <message>
        <source>The policy cannot be used, so every new file is held: {error}</source>
        <translation>策略无法使用，所有新文件都将被暂扣：{error}</translation>
    </message>
    <message>
        <source>Group / folder</source>
        <translation>群组 / 文件夹</translation>
    </message>
    <message>
        <source>Cleared for</source>
        <translation>许可密级</translation>
    </message>
    <message>
        <source>Members</source>
        <translation>成员数</translation>
    </message>
    <message>
        <source>Set by</source>
        <translation>设置来源</translation>
    </message>
    <message>
        <source>Groups</source>
        <translation>群组</translation>
    </message>
    <message>
        <source>{members} (includes outsiders)</source>
        <translation>{members}（含外部人员）</translation>
    </message>
    <message>
        <source>Policy hash (SHA-256): {sha}</source>
        <translation>策略哈希（SHA-256）：{sha}</translation>
    </message>
</context>
<context>
    <name>HeldWindow</name>
    <message>
        <source>Held files — SendGuard</source>
        <translation>已暂扣的文件 — SendGuard</translation>
    </message>
    <message>
        <source>Group</source>
        <translation>群组</translation>
    </message>
    <message>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>Waiting since</source>
        <translation>暂扣时间</translation>
    </message>
    <message>
        <source>Level</source>
        <translation>密级</translation>
    </message>
    <message>
        <source>Held files</source>
        <translation>已暂扣的文件</translation>
    </message>
    <message>
        <source>Share…</source>
        <translation>分享…</translation>
    </message>
    <message>
        <source>Share the selected file…</source>
        <translation>分享所选文件…</translation>
    </message>
    <message>
        <source>Don&apos;t share</source>
        <translation>不分享</translation>
    </message>
    <message>
        <source>Don&apos;t share the selected file</source>
        <translation>不分享所选文件</translation>
    </message>
    <message>
        <source>Show in folder</source>
        <translation>在文件夹中显示</translation>
    </message>
    <message>
        <source>Show the selected file in its folder</source>
        <translation>在文件夹中显示所选文件</translation>
    </message>
    <message>
        <source>checking…</source>
        <translation>正在检查…</translation>
    </message>
    <message>
        <source>held: the policy cannot be used</source>
        <translation>已暂扣：策略无法使用</translation>
    </message>
    <message>
        <source>{forwarded} — {level}</source>
        <translation>{forwarded} — {level}</translation>
    </message>
    <message>
        <source>no label</source>
        <translation>无密级标签</translation>
    </message>
    <message>
        <source>Files held: {count}. Nothing is shared until you decide.</source>
        <translation>已暂扣 {count} 个文件。在您决定之前不会分享任何文件。</translation>
    </message>
    <message>
        <source>No files are held.</source>
        <translation>没有暂扣的文件。</translation>
    </message>
    <message>
        <source>Still being checked, or held until the policy is fixed.</source>
        <translation>仍在检查中，或在策略修复前保持暂扣。</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>SendGuard</source>
        <extracomment>Buttons side by side: all the actions in one column make a tall, narrow window. The wrapped texts get at least this many average characters a line.</extracomment>
        <translation>SendGuard</translation>
    </message>
</context>
<context>
    <name>Policy</name>
    <message>
        <source>Managed by your organisation</source>
        <translation>由贵单位管理</translation>
    </message>
    <message>
        <source>built-in</source>
        <extracomment>While files wait for a decision and no dialog is open, the tray reminds the user.</extracomment>
        <translation>内置</translation>
    </message>
    <message>
        <source>{path}, line {line}</source>
        <translation>{path} 第 {line} 行</translation>
    </message>
    <message>
        <source>system policy {where}</source>
        <translation>系统策略 {where}</translation>
    </message>
    <message>
        <source>user settings {where}</source>
        <translation>用户设置 {where}</translation>
    </message>
    <message>
        <source>discovered under {where}</source>
        <translation>在 {where} 下发现</translation>
    </message>
</context>
<context>
    <name>Reasons</name>
    <message>
        <source>Forwarded from &quot;{group}&quot;</source>
        <translation>转发自“{group}”</translation>
    </message>
    <message>
        <source>the same content as {file} there</source>
        <translation>与在该群组中看到的 {file} 内容相同</translation>
    </message>
    <message>
        <source>a resized or re-compressed copy of a picture seen there as {file}</source>
        <translation>在该群组中看到的图片 {file} 经缩放或重新压缩后的副本</translation>
    </message>
    <message>
        <source>Forwarded from &quot;{group}&quot; ({how})</source>
        <translation>转发自“{group}”（{how}）</translation>
    </message>
    <message>
        <source>Content from &quot;{source}&quot; may not go to &quot;{group}&quot; ({level}).</source>
        <translation>来自“{source}”的内容不得发往“{group}”（{level}）。</translation>
    </message>
    <message>
        <source>Content from &quot;{source}&quot; went to &quot;{group}&quot; ({level}).</source>
        <translation>来自“{source}”的内容已发往“{group}”（{level}）。</translation>
    </message>
    <message>
        <source>Content from &quot;{source}&quot; is asked about before it goes to &quot;{group}&quot; ({level}).</source>
        <translation>来自“{source}”的内容发往“{group}”（{level}）之前需要询问。</translation>
    </message>
</context>
<context>
    <name>Shell</name>
    <message>
        <source>No system tray was found (on GNOME, the AppIndicator extension adds one), so SendGuard shows this window instead. It keeps guarding while the window is minimised.</source>
        <translation>未找到系统托盘（在 GNOME 中可通过 AppIndicator 扩展添加），因此 SendGuard 改为显示此窗口。窗口最小化时仍会继续防护。</translation>
    </message>
    <message>
        <source>SendGuard — {status}</source>
        <extracomment>Menu lines an attention reason may take before the rest is elided. A confirmation dialog was shown (for the bench and tests): the dialog. Who takes the answer for each file in the open dialog (its batch&apos;s reply). The open &quot;put back the group&apos;s version?&quot; question, if any (tests drive it). The first-run window is offered once, when the engine has first started.</extracomment>
        <translation>SendGuard — {status}</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>恢复</translation>
    </message>
    <message>
        <source>Pause for 15 minutes…</source>
        <translation>暂停 15 分钟…</translation>
    </message>
    <message>
        <source>Recent activity…</source>
        <translation>最近活动…</translation>
    </message>
    <message>
        <source>Groups and policy…</source>
        <translation>群组与策略…</translation>
    </message>
    <message>
        <source>Held files: {count}…</source>
        <translation>已暂扣的文件：{count} 个…</translation>
    </message>
    <message>
        <source>Open the &quot;Not shared&quot; folder</source>
        <translation>打开“Not shared”（未分享）文件夹</translation>
    </message>
    <message>
        <source>Diagnostics…</source>
        <translation>诊断信息…</translation>
    </message>
    <message>
        <source>Getting started…</source>
        <translation>使用入门…</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言 / Language</translation>
    </message>
    <message>
        <source>System default</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>The new language is used when SendGuard next starts.</source>
        <translation>新语言将在 SendGuard 下次启动时生效。</translation>
    </message>
    <message>
        <source>Held files…</source>
        <translation>已暂扣的文件…</translation>
    </message>
    <message>
        <source>Put back the group&apos;s version?</source>
        <translation>恢复群组原有的版本？</translation>
    </message>
    <message>
        <source>Put back the group&apos;s version</source>
        <translation>恢复群组原有的版本</translation>
    </message>
    <message>
        <source>Keep the changed file</source>
        <translation>保留修改后的文件</translation>
    </message>
    <message>
        <source>Pause SendGuard</source>
        <translation>暂停 SendGuard</translation>
    </message>
    <message>
        <source>While paused, files shared into groups are not checked. Why do you need to pause? (This is recorded.)</source>
        <translation>暂停期间，分享到群组的文件不会被检查。为什么需要暂停？（此操作会被记录。）</translation>
    </message>
</context>
<context>
    <name>_FileRow</name>
    <message>
        <source>Share this file</source>
        <translation>分享此文件</translation>
    </message>
    <message>
        <source>File name</source>
        <translation>文件名</translation>
    </message>
    <message>
        <source>Share {file}</source>
        <translation>分享 {file}</translation>
    </message>
    <message>
        <source>Type: {type}</source>
        <translation>类型：{type}</translation>
    </message>
    <message>
        <source>File type</source>
        <translation>文件类型</translation>
    </message>
    <message>
        <source>Label</source>
        <translation>密级标签</translation>
    </message>
    <message>
        <source>This group is cleared for {level}.</source>
        <translation>此群组的许可密级为 {level}。</translation>
    </message>
    <message>
        <source>Held until the policy is fixed; it cannot be shared from here.</source>
        <translation>在策略修复前保持暂扣，无法在此分享。</translation>
    </message>
    <message>
        <source>The policy does not allow this file to be shared with this group.</source>
        <translation>策略不允许将此文件分享给此群组。</translation>
    </message>
</context>
</TS>
