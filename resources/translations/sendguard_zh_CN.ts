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
        <extracomment>Where the label was found, in words a person understands.</extracomment>
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
        <source>No label: asked because it came from another group.</source>
        <translation>无密级标签：因其来自另一个群组而询问。</translation>
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
        <source>unknown type</source>
        <translation>未知类型</translation>
    </message>
    <message>
        <source>This came from &quot;{group}&quot;.</source>
        <translation>此文件来自“{group}”。</translation>
    </message>
    <message>
        <source>Share with &quot;{group}&quot;?</source>
        <extracomment>The answers, once: emitted when the dialog closes, whatever closed it.</extracomment>
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
        <extracomment>While files wait for a decision and no dialog is open, the tray reminds the user. title, message, severity (&quot;info&quot; or &quot;warning&quot;) A labelled edit stays in the group folder, and the version the group had is kept: the path, that version, and the sentence that says so. None: the OS keyring the audit adapter chooses (tests pass an in-memory one). Set by the app: tells whether a confirmation dialog is on screen. The audit trail, opened with the first start (its keyring may be slow to answer).</extracomment>
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
        <source>{folder} — files: {count}, cleared for {level}</source>
        <translation>{folder} — 文件：{count} 个，许可密级 {level}</translation>
    </message>
    <message>
        <source>The &quot;Not shared&quot; folder</source>
        <translation>“Not shared”（未分享）文件夹</translation>
    </message>
    <message>
        <source>Audit</source>
        <translation>审计</translation>
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
        <translation>SendGuard</translation>
    </message>
</context>
<context>
    <name>Policy</name>
    <message>
        <source>Managed by your organisation</source>
        <translation>由贵单位管理</translation>
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
        <extracomment>A confirmation dialog was shown (for the bench and tests): the dialog. Who takes the answer for each file in the open dialog (its batch&apos;s reply). The open &quot;put back the group&apos;s version?&quot; question, if any (tests drive it).</extracomment>
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
